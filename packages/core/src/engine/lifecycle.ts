import { TrialBoots, type TrialOptions } from '../boot/trial-boots.js';
import type { FilesystemDriver } from '../contracts/filesystem.js';
import type { HostInfo } from '../contracts/host.js';
import { volumePath } from '../contracts/volume-manager.js';
import {
  BaseExistsError,
  BaseInUseError,
  BaseNotFoundError,
  ImageInvalidError,
  LayoutExistsError,
  NoThinPoolError,
} from '../errors/index.js';
import type { OperationContext } from '../events.js';
import type { ChangeResult } from '../layout/schema.js';
import { Tags } from '../layout/tags.js';
import { formatLayerName, nextLayerIndex, parseNvr, validateVolumeName } from '../naming/nvr.js';
import type { BootEntries } from './boot-entries.js';
import { type ChangePath, step } from './change-path.js';
import { findByDevice, pickLayerSource, requireLayout } from './layout-lookups.js';
import { removeBaseSafely } from './remove-base.js';
import type { AddBaseRequest, AddLayerRequest, InitLayoutRequest } from './requests.js';
import { requireTrialBoots } from './update-trial.js';
import type { VolumeSteps } from './volume-steps.js';

/** The base and layer lifecycle: every verb validates its input, then runs on the change path. */
export class Lifecycle {
  constructor(
    private readonly path: ChangePath,
    private readonly steps: VolumeSteps,
    private readonly boot: BootEntries,
    private readonly filesystem: FilesystemDriver,
    private readonly host: HostInfo,
    /** `[trial]` tries and on_failure, for `layer --add --trial`. */
    private readonly trialOptions: TrialOptions = { tries: 3, onFailure: 'reboot' },
  ) {}

  /** Tags the volume group and pool of `from`, and makes the first base (a snapshot of it) and its first layer. */
  async initLayout(request: InitLayoutRequest, context: OperationContext): Promise<ChangeResult> {
    parseNvr(request.nvr);
    const nvr = request.nvr;
    const from = request.from ?? '/';
    return this.path.change('layout --init', context, async (tx, report, result) => {
      const existing = report.groups.find((g) => g.tags.includes(Tags.group));
      if (existing) throw new LayoutExistsError(existing.name);
      const source = await this.steps.resolveSource(from, report, tx.context);
      if (!source.pool || source.segmentType !== 'thin') throw new NoThinPoolError(`${source.vg}/${source.name}`);
      const pool = report.pools.find((p) => p.vg === source.vg && p.name === source.pool)!;
      const layerName = `${nvr}+1`;
      for (const name of [nvr, layerName]) {
        if (report.volumes.some((v) => v.vg === source.vg && v.name === name)) throw new BaseExistsError(name);
      }

      // The group's pending tag marks the whole init as unfinished until its very last step.
      step(tx, 'tag', `Marking ${source.vg} as the imgbased volume group`);
      await this.steps.tagGroup(tx, source.vg, [Tags.group, Tags.pending]);
      await this.steps.addTags(tx, pool, [Tags.pool]);
      await this.steps.addTags(tx, source, [Tags.init]);

      await this.steps.createVolume(tx, result, {
        kind: 'snapshot',
        vg: source.vg,
        origin: source.name,
        name: nvr,
        tags: [Tags.base, Tags.pending],
      });
      await this.steps.protectBase(tx, { vg: source.vg, name: nvr });
      await this.steps.makeLayer(tx, result, { vg: source.vg, name: nvr }, layerName);
      // Settling the group commits the init; the entry's default move (a commit step too) comes after it.
      this.steps.settleGroup(tx, source.vg);
      await this.boot.addBootEntry(tx, result, source.vg, layerName, source.name);
    });
  }

  /** A new, read-only base: from an ext4 image, or empty. */
  async addBase(request: AddBaseRequest, context: OperationContext): Promise<ChangeResult> {
    parseNvr(request.nvr);
    const image = request.image;
    if (image !== undefined) {
      const info = await this.filesystem.probe(image, context).catch((error: unknown) => {
        throw new ImageInvalidError(image, 'it cannot be read', { cause: error });
      });
      if (info?.type !== this.filesystem.type) {
        throw new ImageInvalidError(
          image,
          `expected an ${this.filesystem.type} file system image, found ${info?.type ?? 'none'}`,
        );
      }
      await this.filesystem.checkImage(image, context);
    }
    return this.path.change('base --add', context, async (tx, report, result) => {
      const layout = requireLayout(report);
      if (report.volumes.some((v) => v.vg === layout.vg && v.name === request.nvr))
        throw new BaseExistsError(request.nvr);
      const ref = { vg: layout.vg, name: request.nvr };
      await this.steps.createVolume(tx, result, {
        kind: 'thin',
        vg: layout.vg,
        pool: layout.pool.name,
        name: request.nvr,
        sizeBytes: request.sizeBytes,
        tags: [Tags.base, Tags.pending],
      });
      tx.checkpoint('base --add');
      if (image === undefined) {
        step(tx, 'mkfs', `Making an empty ${this.filesystem.type} file system on ${request.nvr}`);
        await this.filesystem.create(volumePath(ref), {}, tx.context);
      } else {
        step(tx, 'write-image', `Writing ${image} to ${request.nvr}`);
        await this.filesystem.writeImage(image, volumePath(ref), tx.context);
      }
      tx.checkpoint('base --add');
      await this.steps.protectBase(tx, ref);
    });
  }

  /** Removes a base and all its layers; refuses the base of the running layer. */
  async removeBase(name: string, context: OperationContext): Promise<ChangeResult> {
    parseNvr(name);
    return this.path.change('base --remove', context, async (tx, report, result) => {
      const layout = requireLayout(report);
      const base = layout.bases.find((b) => b.name === name);
      if (!base) throw new BaseNotFoundError(name);
      const root = await this.host.mountedRoot(tx.context);
      const running = root.device && findByDevice(base.layers, report, root.device);
      if (running) throw new BaseInUseError(name, running.name);
      await removeBaseSafely(tx, result, this.steps, this.boot, layout.vg, base, 'base --remove');
    });
  }

  /**
   * A new writable layer: a thin snapshot of a layer, or of a base's newest layer (or the base itself).
   * It becomes the default; with `trial`, it boots next as a trial instead and the default stays
   * (refused before any change when the bootloader has no trial boots).
   */
  async addLayer(request: AddLayerRequest, context: OperationContext): Promise<ChangeResult> {
    if (request.from !== undefined) validateVolumeName(request.from);
    return this.path.change('layer --add', context, async (tx, report, result) => {
      const layout = requireLayout(report);
      const { base, source } = pickLayerSource(layout, request.from);
      const name = formatLayerName({ base: base.nvr, index: nextLayerIndex(base.layers.map((l) => l.index)) });
      if (report.volumes.some((v) => v.vg === layout.vg && v.name === name)) throw new BaseExistsError(name);
      const trial = request.trial
        ? await requireTrialBoots(await this.boot.bootloader(tx.context), this.trialOptions, tx.context)
        : undefined;
      await this.steps.makeLayer(tx, result, { vg: layout.vg, name: source }, name);
      await this.boot.addBootEntry(tx, result, layout.vg, name, source, { makeDefault: trial === undefined });
      if (trial === undefined || result.boot === undefined) return;
      result.boot.trial = true;
      step(tx, 'boot', `${name} will boot next as a trial (${this.trialOptions.tries} boots)`);
      // A commit step, after the volume is settled, like the default's move it replaces.
      tx.onCommit(`boot ${name} as a trial`, async (c) => {
        await new TrialBoots(trial, this.trialOptions).start(name, c);
      });
    });
  }
}

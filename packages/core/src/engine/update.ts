import type { TrialOptions } from '../boot/trial-boots.js';
import type { HostInfo } from '../contracts/host.js';
import type { ImageInfo, ImageInstaller, ImageSource, LocalImage } from '../contracts/image.js';
import { type StorageReport, type VolumeManager, volumePath } from '../contracts/volume-manager.js';
import {
  BaseExistsError,
  CancelledError,
  ImgbasedError,
  LayerNotFoundError,
  NotOnLayerError,
  UsageError,
} from '../errors/index.js';
import { emit, type OperationContext } from '../events.js';
import { allLayers, latestLayer } from '../layout/layout.js';
import type { BaseView, ChangeResult, LayerView, LayoutView } from '../layout/schema.js';
import { Tags } from '../layout/tags.js';
import type { SpacePlan, UpdateResult } from '../layout/update-schema.js';
import { compareNvr, parseLayerName, parseNvr } from '../naming/nvr.js';
import type { BootEntries } from './boot-entries.js';
import { bootSpaces } from './boot-space.js';
import { type ChangePath, step } from './change-path.js';
import { planGc } from './gc.js';
import { findByDevice, requireLayout } from './layout-lookups.js';
import { removeBaseSafely } from './remove-base.js';
import type { UpdateRequest } from './requests.js';
import { baseFreesBytes, planSpace } from './space-plan.js';
import type { Transaction } from './transaction.js';
import { carryOverSummary, type UpdateRecorder } from './update-record.js';
import type { UpdateSteps } from './update-steps.js';
import type { VolumeSteps } from './volume-steps.js';

export interface UpdateSettings {
  readonly images?: ImageSource | undefined;
  readonly installer?: ImageInstaller | undefined;
  /** `[update] images_to_keep`. */
  readonly imagesToKeep: number;
  /** `[bootloader] boot_dir`: whose free space the plan checks. */
  readonly bootDir: string;
  /** `[trial]`: the new layer boots as a trial with these; undefined: it becomes the default at once. */
  readonly trial?: TrialOptions | undefined;
  /** Leaves the record `imgbase status` shows in the new layer; undefined: no record (no file access). */
  readonly recorder?: UpdateRecorder | undefined;
}

export const DEFAULT_DOWNLOAD_DIRECTORY = '/var/tmp/imgbased';

interface Source {
  readonly layer: LayerView;
  readonly base: BaseView;
  readonly why: UpdateResult['from']['why'];
  /** The base of the layer the host runs from, when it runs from one. */
  readonly runningBase: string | undefined;
}

/**
 * `imgbase update`: one transaction from an image to a new base whose first layer holds the admin's
 * state and boots next. Before anything is made: the image is resolved and verified, inspected (format,
 * NVR), the source layer chosen and the space planned; every refusal changes nothing. Then: pool
 * metadata grown (when planned; never undone) → new thin volume → image installed → protected as a
 * base → first layer (own UUID) → carry-over → boot entry, the default → garbage collection → commit.
 */
export class Update {
  constructor(
    private readonly path: ChangePath,
    private readonly volumes: VolumeManager,
    private readonly steps: VolumeSteps,
    private readonly boot: BootEntries,
    private readonly updateSteps: UpdateSteps,
    private readonly host: HostInfo,
    private readonly settings: UpdateSettings,
  ) {}

  async update(request: UpdateRequest, context: OperationContext): Promise<UpdateResult> {
    if (request.nvr !== undefined) parseNvr(request.nvr);
    if (request.from !== undefined) parseLayerName(request.from);
    const keep = request.keep ?? this.settings.imagesToKeep;
    if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep takes a whole number from 1, not ${keep}`);
    if (request.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(request.sha256))
      throw new UsageError('--sha256 takes the 64 hex digits of a SHA-256');
    const { images, installer } = this.settings;
    if (!images || !installer) throw new UsageError('update is not available: this imgbased has no image support');
    // Cheap refusals first, before a download: no layout, an unknown --from.
    this.pickSource(requireLayout(await this.volumes.report(context)), undefined, request.from, undefined);

    const local = await cancellable(context, () =>
      images.resolve(
        request.image,
        { downloadDirectory: request.downloadDirectory ?? DEFAULT_DOWNLOAD_DIRECTORY, sha256: request.sha256 },
        context,
      ),
    );
    const info = await cancellable(context, () =>
      installer.inspect(local.path, { format: request.format, nvr: request.nvr, fileName: local.fileName }, context),
    );

    let done: Omit<UpdateResult, 'dryRun' | 'created' | 'removed' | 'recovered' | 'plan'> | undefined;
    const change = await this.path.change('update', context, async (tx, report, result) => {
      done = await this.transaction(tx, report, result, { request, keep, local, info, installer });
    });
    return {
      dryRun: change.dryRun,
      ...done!,
      created: change.created,
      removed: change.removed,
      recovered: change.recovered,
      plan: change.plan,
    };
  }

  private async transaction(
    tx: Transaction,
    report: StorageReport,
    result: ChangeResult,
    job: { request: UpdateRequest; keep: number; local: LocalImage; info: ImageInfo; installer: ImageInstaller },
  ) {
    const { request, keep, local, info } = job;
    const layout = requireLayout(report);
    const vg = layout.vg;
    const nvr = info.nvr;
    const layer = `${nvr}+1`;
    parseNvr(nvr);
    for (const name of [nvr, layer]) {
      if (report.volumes.some((v) => v.vg === vg && v.name === name)) throw new BaseExistsError(name);
    }
    const root = await this.host.mountedRoot(tx.context);
    const running = root.device && findByDevice(allLayers(layout), report, root.device);
    const source = this.pickSource(layout, running, request.from, root.source);
    if (source.why === 'newest') {
      emit(tx.context, {
        type: 'warning',
        message: `the host does not run from a layer (/ is ${root.source}): carrying over the state of the newest layer, ${source.layer.name}`,
      });
    }

    const trialGood = await this.trialGoodBase(layout, tx.context);
    const space = await this.planSpace(layout, report, info, source, nvr, keep, tx.context, trialGood);
    const gc = planGc(withNewBase(layout, nvr), keep, [source.runningBase, source.base.name, nvr, trialGood]);
    if (space.metadataExtension) {
      step(
        tx,
        'metadata',
        `Growing the metadata of ${vg}/${layout.pool.name} to ${space.metadataExtension.toBytes} bytes`,
      );
      await this.volumes.extendPoolMetadata(
        { vg, name: layout.pool.name },
        space.metadataExtension.toBytes,
        tx.context,
      );
    }

    const baseRef = { vg, name: nvr };
    await this.steps.createVolume(tx, result, {
      kind: 'thin',
      vg,
      pool: layout.pool.name,
      name: nvr,
      sizeBytes: space.newVolumeBytes,
      tags: [Tags.base, Tags.pending],
    });
    tx.checkpoint('update');
    step(tx, 'install', `Installing ${local.fileName} (${info.format}) as ${nvr}`);
    await job.installer.install(info, volumePath(baseRef), tx.context);
    tx.checkpoint('update');
    await this.steps.protectBase(tx, baseRef);
    await this.steps.makeLayer(tx, result, baseRef, layer);

    const persistence = await this.updateSteps.carryOver(tx, {
      vg,
      oldBase: source.base.name,
      oldLayer: source.layer.name,
      newLayer: layer,
      oldBaseActive: report.volumes.find((v) => v.vg === vg && v.name === source.base.name)?.active ?? false,
      oldLayerRunning: source.layer.name === running?.name,
    });
    const choice = this.settings.trial === undefined ? 'default' : { trial: this.settings.trial };
    const boot = await this.updateSteps.bootEntry(tx, vg, layer, source.layer.name, choice);

    const removedBases: { base: string; layers: string[] }[] = [];
    const removedEntries: string[] = [];
    for (const name of gc.remove) {
      const base = layout.bases.find((b) => b.name === name)!;
      step(tx, 'gc', `Removing base ${name}: more than ${keep} bases are kept`);
      await removeBaseSafely(tx, result, this.steps, this.boot, vg, base, 'update');
      removedEntries.push(...(result.boot?.removed ?? []));
      result.boot = undefined;
      removedBases.push({ base: name, layers: base.layers.map((l) => l.name) });
    }
    await this.settings.recorder?.write(tx, vg, {
      image: { given: request.image, format: info.format, sha256: local.verified?.sha256 ?? null },
      base: nvr,
      layer,
      from: source.layer.name,
      carryOver: persistence.map(carryOverSummary),
      gcRemoved: removedBases.map((r) => r.base),
    });
    return {
      image: {
        given: request.image,
        path: local.path,
        format: info.format,
        nvr,
        nvrFrom: info.nvrFrom,
        sha256: local.verified?.sha256 ?? null,
      },
      base: nvr,
      layer,
      from: { layer: source.layer.name, why: source.why },
      space,
      persistence,
      gc: { keep, removed: removedBases, kept: gc.kept },
      // The record itself: the commit step that sets the default still updates `atomic`.
      ...(boot.record ? { boot: Object.assign(boot.record, { removed: removedEntries }) } : {}),
      bootsNext: boot.bootsNext,
      rebootRequired: boot.bootsNext === layer,
      trial: boot.trial,
    };
  }

  /** `--from LAYER`; else the running layer; else the newest one (the caller warns). */
  private pickSource(
    layout: LayoutView,
    running: LayerView | undefined,
    from: string | undefined,
    rootSource: string | undefined,
  ): Source {
    const baseOf = (layer: LayerView) => layout.bases.find((b) => b.name === layer.base)!;
    const runningBase = running?.base;
    if (from !== undefined) {
      const layer = allLayers(layout).find((l) => l.name === from);
      if (!layer) throw new LayerNotFoundError(from);
      return { layer, base: baseOf(layer), why: 'option', runningBase };
    }
    if (running) return { layer: running, base: baseOf(running), why: 'running', runningBase };
    const newest = latestLayer(layout);
    if (!newest) throw new NotOnLayerError(rootSource ?? '/');
    return { layer: newest, base: baseOf(newest), why: 'newest', runningBase };
  }

  /** While a trial runs, GC keeps the base of its last good layer (the fallback) too. */
  private async trialGoodBase(layout: LayoutView, context: OperationContext): Promise<string | undefined> {
    const trial = (await this.boot.bootloader(context))?.trial?.();
    const good = (await trial?.readRecord(context))?.trial?.good;
    return good === undefined ? undefined : layout.bases.find((b) => b.layers.some((l) => l.name === good))?.name;
  }

  private async planSpace(
    layout: LayoutView,
    report: StorageReport,
    info: ImageInfo,
    source: Source,
    nvr: string,
    keep: number,
    context: OperationContext,
    trialGood?: string,
  ): Promise<SpacePlan> {
    const protectedNames = [source.runningBase, source.base.name, nvr, trialGood];
    const frees = (names: readonly string[]) =>
      names.map((name) => ({
        base: name,
        freesBytes: baseFreesBytes(layout.bases.find((b) => b.name === name)!, report.volumes),
      }));
    const gcFrees = frees(planGc(withNewBase(layout, nvr), keep, protectedNames).remove);
    const removable = frees(
      layout.bases.filter((b) => !b.pinned && !protectedNames.includes(b.name)).map((b) => b.name),
    );
    const keepOne = frees(planGc(layout.bases, 1, protectedNames).remove);
    const keepOneFrees = keepOne.reduce((sum, f) => sum + f.freesBytes, 0);
    const spaces = await bootSpaces(this.host, this.boot, this.settings.bootDir, context);
    return planSpace({
      pool: report.pools.find((p) => p.vg === layout.vg && p.name === layout.pool.name)!,
      group: report.groups.find((g) => g.name === layout.vg)!,
      image: info,
      sourceLayerBytes: source.layer.sizeBytes,
      ...spaces,
      gcFrees,
      relief: { keep: keepOneFrees > 0 ? { keep: 1, freesBytes: keepOneFrees } : undefined, removable },
    });
  }
}

/** The layout's bases and the new one, oldest first by rpm's rules. */
function withNewBase(layout: LayoutView, nvr: string): { name: string; pinned: boolean }[] {
  const bases = [...layout.bases.map((b) => ({ name: b.name, pinned: b.pinned })), { name: nvr, pinned: false }];
  return bases.sort((a, b) => compareNvr(parseNvr(a.name), parseNvr(b.name)));
}

/** Runs a step outside the transaction; a failure caused by the signal is the operation's cancellation. */
async function cancellable<T>(context: OperationContext, run: () => Promise<T>): Promise<T> {
  try {
    context.signal?.throwIfAborted();
    return await run();
  } catch (error) {
    if (error instanceof ImgbasedError || !context.signal?.aborted) throw error;
    throw new CancelledError('update', { cause: error });
  }
}

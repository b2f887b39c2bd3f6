import { inject, injectable } from 'tsyringe';
import {
  composeKernelArgs,
  desiredFromInstalled,
  entryIdForLayer,
  entryTitle,
  type FoundKernel,
  findKernel,
  keptFiles,
  validateKernelArg,
} from '../boot/entries.js';
import {
  type BootEntry,
  type Bootloader,
  BootloaderSelection,
  type BootState,
  type DesiredBootEntry,
} from '../contracts/bootloader.js';
import { CommandRunner } from '../contracts/command-runner.js';
import { FilesystemDriver } from '../contracts/filesystem.js';
import { HostInfo, OperationLock } from '../contracts/host.js';
import {
  type CreateVolumeRequest,
  type StorageReport,
  type ThinVolume,
  VolumeManager,
  type VolumeRef,
  volumePath,
} from '../contracts/volume-manager.js';
import {
  BaseExistsError,
  BaseInUseError,
  BaseNotFoundError,
  BootEntryNotFoundError,
  BootLastEntryError,
  CancelledError,
  ImageInvalidError,
  ImgbasedError,
  LayerNotFoundError,
  LayoutExistsError,
  NoBootloaderError,
  NoLayoutError,
  NoThinPoolError,
  NotOnLayerError,
  UsageError,
  VolumeNotFoundError,
} from '../errors/index.js';
import { type EngineEvent, emit, type OperationContext } from '../events.js';
import { allLayers, latestBase, latestLayer, readLayout } from '../layout/layout.js';
import type {
  BaseView,
  BootChange,
  BootDefault,
  BootList,
  ChangeResult,
  FreeSpace,
  KernelArgs,
  KernelArgsChange,
  LayerView,
  LayoutView,
  PlannedCommand,
} from '../layout/schema.js';
import { Tags } from '../layout/tags.js';
import { formatLayerName, nextLayerIndex, parseLayerName, parseNvr, validateVolumeName } from '../naming/nvr.js';
import { Transaction } from './transaction.js';

export interface InitLayoutRequest {
  /** NVR of the first base. */
  readonly nvr: string;
  /** The root volume to start from: `/` (what is mounted there), `VG/LV`, `/dev/VG/LV` or `@tag`. */
  readonly from?: string | undefined;
}

export interface AddBaseRequest {
  readonly nvr: string;
  readonly sizeBytes: number;
  /** An ext4 file system image to fill the base with; without one the base gets an empty file system. */
  readonly image?: string | undefined;
}

export interface AddLayerRequest {
  /** A base (its newest layer, or the base itself when it has none) or a layer; default: the newest base. */
  readonly from?: string | undefined;
}

/**
 * The one engine behind every front end. It never prints and never exits: it reports events, honours
 * an AbortSignal, returns plain serialisable data and throws typed errors. Every mutating verb holds
 * the operation lock, first clears away what an interrupted operation left half-made, and undoes its
 * own steps if anything fails.
 */
@injectable()
export class ImageEngine {
  constructor(
    @inject(VolumeManager) private readonly volumes: VolumeManager,
    @inject(FilesystemDriver) private readonly filesystem: FilesystemDriver,
    @inject(HostInfo) private readonly host: HostInfo,
    @inject(OperationLock) private readonly lock: OperationLock,
    @inject(CommandRunner) private readonly runner: CommandRunner,
    @inject(BootloaderSelection, { isOptional: true }) private readonly bootloaders?: BootloaderSelection,
  ) {}

  // ---- reading ----

  /** The whole layout; throws NoLayoutError when the host has none. */
  async layout(context?: OperationContext): Promise<LayoutView> {
    return requireLayout(await this.volumes.report(context));
  }

  async latestBase(context?: OperationContext): Promise<BaseView> {
    const base = latestBase(await this.layout(context));
    if (!base) throw new BaseNotFoundError('(latest)');
    return base;
  }

  async latestLayer(context?: OperationContext): Promise<LayerView> {
    const layer = latestLayer(await this.layout(context));
    if (!layer) throw new LayerNotFoundError('(latest)');
    return layer;
  }

  async baseOfLayer(name: string, context?: OperationContext): Promise<BaseView> {
    parseLayerName(name);
    const layout = await this.layout(context);
    const base = layout.bases.find((b) => b.layers.some((l) => l.name === name));
    if (!base) throw new LayerNotFoundError(name);
    return base;
  }

  /** The layer mounted at `/`. */
  async currentLayer(context?: OperationContext): Promise<LayerView> {
    const [report, root] = await Promise.all([this.volumes.report(context), this.host.mountedRoot(context)]);
    const layout = requireLayout(report);
    const layer = root.device && findByDevice(allLayers(layout), report, root.device);
    if (!layer) throw new NotOnLayerError(root.source);
    return layer;
  }

  /** The device path of a base or layer. */
  async volumePath(name: string, context?: OperationContext): Promise<string> {
    validateVolumeName(name);
    const layout = await this.layout(context);
    const volume = [...layout.bases, ...allLayers(layout)].find((v) => v.name === name);
    if (!volume) throw name.includes('+') ? new LayerNotFoundError(name) : new BaseNotFoundError(name);
    return volume.path;
  }

  async freeSpace(context?: OperationContext): Promise<FreeSpace> {
    const { pool } = await this.layout(context);
    return { pool: pool.name, freeBytes: pool.freeBytes, sizeBytes: pool.sizeBytes };
  }

  // ---- changing ----

  /** Tags the volume group and pool of `from`, and makes the first base (a snapshot of it) and its first layer. */
  async initLayout(request: InitLayoutRequest, context: OperationContext = {}): Promise<ChangeResult> {
    parseNvr(request.nvr);
    const nvr = request.nvr;
    const from = request.from ?? '/';
    return this.change('layout --init', context, async (tx, report, result) => {
      const existing = report.groups.find((g) => g.tags.includes(Tags.group));
      if (existing) throw new LayoutExistsError(existing.name);
      const source = await this.resolveSource(from, report, tx.context);
      if (!source.pool || source.segmentType !== 'thin') throw new NoThinPoolError(`${source.vg}/${source.name}`);
      const pool = report.pools.find((p) => p.vg === source.vg && p.name === source.pool)!;
      const layerName = `${nvr}+1`;
      for (const name of [nvr, layerName]) {
        if (report.volumes.some((v) => v.vg === source.vg && v.name === name)) throw new BaseExistsError(name);
      }

      // The group's pending tag marks the whole init as unfinished until its very last step.
      step(tx, 'tag', `Marking ${source.vg} as the imgbased volume group`);
      await this.volumes.changeGroup(source.vg, { addTags: [Tags.group, Tags.pending] }, tx.context);
      tx.onUndo(`untag ${source.vg}`, (c) =>
        this.volumes.changeGroup(source.vg, { removeTags: [Tags.group, Tags.pending] }, c),
      );
      await this.addTags(tx, pool, [Tags.pool]);
      await this.addTags(tx, source, [Tags.init]);

      await this.createVolume(tx, result, {
        kind: 'snapshot',
        vg: source.vg,
        origin: source.name,
        name: nvr,
        tags: [Tags.base, Tags.pending],
      });
      await this.protectBase(tx, { vg: source.vg, name: nvr });
      await this.makeLayer(tx, result, { vg: source.vg, name: nvr }, layerName);
      await this.addBootEntry(tx, result, source.vg, layerName, source.name);
      tx.onCommit(`settle ${source.vg}`, (c) => this.volumes.changeGroup(source.vg, { removeTags: [Tags.pending] }, c));
    });
  }

  /** A new, read-only base: from an ext4 image, or empty. */
  async addBase(request: AddBaseRequest, context: OperationContext = {}): Promise<ChangeResult> {
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
    }
    return this.change('base --add', context, async (tx, report, result) => {
      const layout = requireLayout(report);
      if (report.volumes.some((v) => v.vg === layout.vg && v.name === request.nvr))
        throw new BaseExistsError(request.nvr);
      const ref = { vg: layout.vg, name: request.nvr };
      await this.createVolume(tx, result, {
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
      await this.protectBase(tx, ref);
    });
  }

  /** Removes a base and all its layers; refuses the base of the running layer. */
  async removeBase(name: string, context: OperationContext = {}): Promise<ChangeResult> {
    parseNvr(name);
    return this.change('base --remove', context, async (tx, report, result) => {
      const layout = requireLayout(report);
      const base = layout.bases.find((b) => b.name === name);
      if (!base) throw new BaseNotFoundError(name);
      const root = await this.host.mountedRoot(tx.context);
      const running = root.device && findByDevice(base.layers, report, root.device);
      if (running) throw new BaseInUseError(name, running.name);
      await this.removeBootEntries(
        tx,
        result,
        base.layers.map((l) => l.name),
      );
      // Newest layer first, the base last: whatever point this stops at, what is left is a valid layout.
      for (const layer of [...base.layers].reverse()) {
        tx.checkpoint('base --remove');
        step(tx, 'remove', `Removing layer ${layer.name}`);
        await this.volumes.remove({ vg: layout.vg, name: layer.name }, tx.context);
        result.removed.push(layer.name);
      }
      step(tx, 'remove', `Removing base ${name}`);
      await this.volumes.remove({ vg: layout.vg, name }, tx.context);
      result.removed.push(name);
    });
  }

  /** A new writable layer: a thin snapshot of a layer, or of a base's newest layer (or the base itself). */
  async addLayer(request: AddLayerRequest = {}, context: OperationContext = {}): Promise<ChangeResult> {
    if (request.from !== undefined) validateVolumeName(request.from);
    return this.change('layer --add', context, async (tx, report, result) => {
      const layout = requireLayout(report);
      const { base, source } = pickLayerSource(layout, request.from);
      const name = formatLayerName({ base: base.nvr, index: nextLayerIndex(base.layers.map((l) => l.index)) });
      if (report.volumes.some((v) => v.vg === layout.vg && v.name === name)) throw new BaseExistsError(name);
      await this.makeLayer(tx, result, { vg: layout.vg, name: source }, name);
      await this.addBootEntry(tx, result, layout.vg, name, source);
    });
  }

  // ---- boot entries ----

  /** The installed boot entries, the default and the one-shot; an empty list when no bootloader is present. */
  async bootList(context: OperationContext = {}): Promise<BootList> {
    const bootloader = await this.bootloader(context);
    if (!bootloader) return { bootloader: null, capabilities: null, default: null, next: null, entries: [] };
    const [state, capabilities] = await Promise.all([bootloader.state(context), bootloader.capabilities(context)]);
    return {
      bootloader: bootloader.name,
      capabilities,
      default: state.defaultId ?? null,
      next: state.nextId ?? null,
      entries: state.entries.map((e) => entryView(e, state)),
    };
  }

  async bootDefault(context: OperationContext = {}): Promise<BootDefault> {
    const bootloader = await this.bootloader(context);
    if (!bootloader) return { bootloader: null, entry: null, layer: null };
    const state = await bootloader.state(context);
    const entry = state.entries.find((e) => e.id === state.defaultId);
    return { bootloader: bootloader.name, entry: state.defaultId ?? null, layer: entry?.layer ?? null };
  }

  /** Makes `layer` the default boot entry. */
  async setDefaultBoot(layer: string, context: OperationContext = {}): Promise<BootChange> {
    return this.bootChange('boot --set-default', layer, context, (b, id, c) => b.setDefault(id, c));
  }

  /** Boots `layer` once, at the next boot only (where the bootloader supports it). */
  async setNextBoot(layer: string, context: OperationContext = {}): Promise<BootChange> {
    return this.bootChange('boot --next', layer, context, (b, id, c) => b.setNextBoot(id, c));
  }

  /** The kernel arguments of `layer`'s boot entry. */
  async kernelArgs(layer: string, context: OperationContext = {}): Promise<KernelArgs> {
    parseLayerName(layer);
    const { bootloader, entry } = await this.entryOfLayer(layer, context);
    return { bootloader: bootloader.name, layer, entry: entry.id, options: [...entry.options] };
  }

  /**
   * Appends and deletes kernel arguments of `layer`'s entry (`key=value` replaces the key's value; a
   * deleted `key` takes every `key`/`key=…`, `key=value` only that one). The whole entry set is written
   * as one swap; layers later made from this one inherit the arguments, as they inherit its kernel.
   */
  async editKernelArgs(
    layer: string,
    edit: { readonly append?: readonly string[]; readonly delete?: readonly string[] },
    context: OperationContext = {},
  ): Promise<KernelArgsChange> {
    parseLayerName(layer);
    const append = edit.append ?? [];
    const remove = edit.delete ?? [];
    if (append.length === 0 && remove.length === 0)
      throw new UsageError('boot --edit-kernel-args needs at least one --append ARG or --delete ARG');
    for (const arg of [...append, ...remove]) validateKernelArg(arg);
    const held = this.runner.dryRun ? undefined : await this.lock.acquire('boot --edit-kernel-args');
    try {
      const { bootloader, state, entry, vg } = await this.entryOfLayer(layer, context);
      const edited = desiredFromInstalled(entry, layer, vg, { add: append, remove });
      // Keep the entry's own title (it names the kernel it boots); only the command line changes.
      const desired = { ...edited, title: entry.title };
      const base = { dryRun: this.runner.dryRun, bootloader: bootloader.name, layer, entry: entry.id };
      const change = { ...base, previous: [...entry.options], options: [...desired.options] };
      if (this.runner.dryRun) {
        emit(context, {
          type: 'step',
          step: 'boot',
          message: `Would set the kernel arguments of ${entry.id} (dry run)`,
        });
        return { ...change, atomic: true };
      }
      emit(context, { type: 'step', step: 'boot', message: `Setting the kernel arguments of ${entry.id}` });
      const own = keptEntries(state).map((e) => (e.layer === layer ? desired : e));
      const { atomic } = await bootloader.writeEntries(own, {}, context);
      return { ...change, atomic };
    } finally {
      await held?.release();
    }
  }

  /** The bootloader in use and the installed entry of `layer`, or the typed error saying which is missing. */
  private async entryOfLayer(
    layer: string,
    context: OperationContext,
  ): Promise<{ bootloader: Bootloader; state: BootState; entry: BootEntry; vg: string }> {
    const layout = await this.layout(context);
    if (!allLayers(layout).some((l) => l.name === layer)) throw new LayerNotFoundError(layer);
    const bootloader = await this.bootloader(context);
    if (!bootloader) throw new NoBootloaderError(['auto']);
    const state = await bootloader.state(context);
    const entry = state.entries.find((e) => e.layer === layer);
    if (!entry) throw new BootEntryNotFoundError(layer, bootloader.name);
    return { bootloader, state, entry, vg: layout.vg };
  }

  private async bootChange(
    purpose: string,
    layer: string,
    context: OperationContext,
    apply: (bootloader: Bootloader, entryId: string, context: OperationContext) => Promise<{ atomic: boolean }>,
  ): Promise<BootChange> {
    parseLayerName(layer);
    const held = this.runner.dryRun ? undefined : await this.lock.acquire(purpose);
    try {
      const { bootloader, entry } = await this.entryOfLayer(layer, context);
      const base = { dryRun: this.runner.dryRun, bootloader: bootloader.name, layer, entry: entry.id };
      if (this.runner.dryRun) {
        emit(context, { type: 'step', step: 'boot', message: `Would make ${entry.id} the entry to boot (dry run)` });
        return { ...base, atomic: true };
      }
      emit(context, { type: 'step', step: 'boot', message: `${purpose}: ${entry.id} (${bootloader.name})` });
      const { atomic } = await apply(bootloader, entry.id, context);
      return { ...base, atomic };
    } finally {
      await held?.release();
    }
  }

  private async bootloader(context: OperationContext): Promise<Bootloader | undefined> {
    return this.bootloaders?.select(context);
  }

  /**
   * Writes the boot entry of a new layer, as part of the operation (undone with it): the kernel and
   * initrd of the source layer's entry, or else the newest kernel in the new layer's /boot, with the
   * arguments composed for the new layer. The new layer becomes the default, as in the original. With
   * no bootloader present (config `auto`) or no kernel to be found, no entry is written and a warning
   * says so; a dry run writes none.
   */
  private async addBootEntry(
    tx: Transaction,
    result: ChangeResult,
    vg: string,
    layer: string,
    source: string,
  ): Promise<void> {
    const bootloader = await this.bootloader(tx.context);
    if (!bootloader) {
      emit(tx.context, { type: 'warning', message: `no bootloader found: no boot entry was written for ${layer}` });
      return;
    }
    if (this.runner.dryRun) {
      step(tx, 'boot', `Would write the ${bootloader.name} boot entry of ${layer}`);
      return;
    }
    tx.checkpoint('boot entry');
    const state = await bootloader.state(tx.context);
    const own = keptEntries(state);
    const from = state.entries.find((e) => e.layer === source);
    const write = async (entry: DesiredBootEntry) => {
      step(tx, 'boot', `Writing the ${bootloader.name} boot entry of ${layer}`);
      const { atomic } = await bootloader.writeEntries([...own, entry], {}, tx.context);
      tx.onUndo(`remove the boot entry of ${layer}`, async (c) => {
        await bootloader.writeEntries(own, {}, c);
      });
      return atomic;
    };
    const fromKernel = (kernel: FoundKernel, dir: string): DesiredBootEntry => ({
      layer,
      title: entryTitle(layer, kernel.version),
      version: kernel.version,
      options: composeKernelArgs({ layerArgs: [], vg, layer }),
      files: {
        kernel: `${dir}/${kernel.kernel}`,
        initrd: kernel.initrd === undefined ? undefined : `${dir}/${kernel.initrd}`,
      },
    });
    let atomic: boolean;
    if (from) {
      atomic = await write(desiredFromInstalled(from, layer, vg));
    } else {
      const found = await this.filesystem.withMounted(
        volumePath({ vg, name: layer }),
        { readOnly: true },
        async (dir) => {
          const kernel = await this.kernelIn(`${dir}/boot`, undefined, tx.context);
          return kernel === undefined ? undefined : write(fromKernel(kernel, `${dir}/boot`));
        },
      );
      if (found !== undefined) {
        atomic = found;
      } else {
        // A host whose /boot is a partition of its own keeps the kernels there, not in the root volume:
        // as the original did, the new layer boots the running kernel.
        const release = (await this.runner.run({ argv: ['uname', '-r'], mutates: false }, tx.context)).stdout.trim();
        const running = await this.kernelIn('/boot', release, tx.context);
        if (running === undefined || running.version !== release) {
          emit(tx.context, {
            type: 'warning',
            message: `no kernel found for ${layer} (no entry of ${source}, nothing in its /boot, running kernel ${release} not in /boot): no boot entry was written`,
          });
          return;
        }
        emit(tx.context, {
          type: 'warning',
          message: `${layer} has no kernel in its own /boot: its entry boots the running kernel ${release} from /boot`,
        });
        atomic = await write(fromKernel(running, '/boot'));
      }
    }
    const id = entryIdForLayer(layer);
    if (state.defaultId !== id) {
      const previous = state.defaultId;
      const set = await bootloader.setDefault(id, tx.context);
      atomic &&= set.atomic;
      if (previous !== undefined && state.entries.some((e) => e.id === previous)) {
        tx.onUndo(`make ${previous} the default again`, async (c) => {
          await bootloader.setDefault(previous, c);
        });
      }
    }
    result.boot = { bootloader: bootloader.name, added: [id], removed: [], atomic };
  }

  /** The kernel to boot from a /boot directory: `prefer`'s version when it is there, else the newest. */
  private async kernelIn(
    bootDir: string,
    prefer: string | undefined,
    context: OperationContext,
  ): Promise<FoundKernel | undefined> {
    const listed = await this.runner.run(
      { argv: ['ls', '-1A', bootDir], mutates: false, okExitCodes: [0, 1, 2] },
      context,
    );
    return findKernel(listed.stdout.split('\n').filter(Boolean), prefer);
  }

  /**
   * Takes the entries of layers about to be removed out of the boot configuration, keeping their files
   * until the operation commits; refuses (before any change) to remove the last bootable entry.
   */
  private async removeBootEntries(tx: Transaction, result: ChangeResult, layers: readonly string[]): Promise<void> {
    const bootloader = await this.bootloader(tx.context);
    if (!bootloader) return;
    const state = await bootloader.state(tx.context);
    const own = keptEntries(state);
    const remaining = own.filter((e) => !layers.includes(e.layer));
    const leaving = state.entries.filter((e) => e.layer !== undefined && layers.includes(e.layer));
    if (leaving.length === 0) return;
    if (remaining.length === 0 && !state.entries.some((e) => e.layer === undefined)) {
      throw new BootLastEntryError(leaving.at(-1)!.layer!);
    }
    if (this.runner.dryRun) {
      step(tx, 'boot', `Would remove the ${bootloader.name} boot entries of ${layers.join(', ')}`);
      return;
    }
    step(tx, 'boot', `Removing the ${bootloader.name} boot entries of ${layers.join(', ')}`);
    const { atomic } = await bootloader.writeEntries(remaining, { keepFiles: true }, tx.context);
    tx.onUndo('restore the boot entries', async (c) => {
      await bootloader.writeEntries(own, { keepFiles: true }, c);
      if (state.defaultId !== undefined) await bootloader.setDefault(state.defaultId, c);
    });
    tx.onCommit('remove the files of removed boot entries', async (c) => {
      await bootloader.writeEntries(remaining, {}, c);
    });
    result.boot = { bootloader: bootloader.name, added: [], removed: leaving.map((e) => e.id), atomic };
  }

  // ---- steps ----

  /**
   * Runs a mutating operation: lock, recovery of interrupted operations, the body, then the commit
   * (dropping the pending tag of every volume made) or, on any failure, the undo of every step.
   */
  private async change(
    purpose: string,
    context: OperationContext,
    body: (tx: Transaction, report: StorageReport, result: ChangeResult) => Promise<void>,
  ): Promise<ChangeResult> {
    const plan: PlannedCommand[] = [];
    const collecting: OperationContext = {
      signal: context.signal,
      report: (event: EngineEvent) => {
        if (event.type === 'command' && event.planned) plan.push({ argv: [...event.argv] });
        context.report?.(event);
      },
    };
    const result: ChangeResult = { dryRun: this.runner.dryRun, created: [], removed: [], recovered: [], plan };
    // A dry run changes nothing, so it neither takes nor needs the lock.
    const held = this.runner.dryRun ? undefined : await this.lock.acquire(purpose);
    try {
      const tx = new Transaction(collecting);
      let report = await this.volumes.report(collecting);
      result.recovered.push(...(await this.recoverInterrupted(report, collecting)));
      if (result.recovered.length > 0) report = await this.volumes.report(collecting);
      try {
        tx.checkpoint(purpose);
        await body(tx, report, result);
        tx.checkpoint(purpose);
        step(tx, 'commit', 'Committing');
        await tx.commit();
      } catch (error) {
        await tx.rollback();
        throw error instanceof ImgbasedError || !context.signal?.aborted
          ? error
          : new CancelledError(purpose, { cause: error });
      }
      return result;
    } finally {
      await held?.release();
    }
  }

  /**
   * Removes what an interrupted operation left half-made. Runs under the lock, so no live operation
   * can own it: volumes still tagged pending, and everything of an unfinished `layout --init` (its
   * group is still tagged pending), whose tags go too, so that `layout --init` can simply run again.
   */
  private async recoverInterrupted(report: StorageReport, context: OperationContext): Promise<string[]> {
    const unfinishedInits = report.groups.filter((g) => g.tags.includes(Tags.group) && g.tags.includes(Tags.pending));
    const doomed = report.volumes.filter(
      (v) =>
        v.tags.includes(Tags.pending) ||
        (unfinishedInits.some((g) => g.name === v.vg) && (v.tags.includes(Tags.base) || v.tags.includes(Tags.layer))),
    );
    for (const volume of doomed) {
      emit(context, {
        type: 'step',
        step: 'recover',
        message: `Removing ${volume.name}, left half-made by an interrupted operation`,
      });
      await this.volumes.remove(volume, context);
    }
    for (const group of unfinishedInits) {
      emit(context, {
        type: 'step',
        step: 'recover',
        message: `Undoing the interrupted layout --init of ${group.name}`,
      });
      for (const volume of [...report.pools, ...report.volumes]) {
        const stale = volume.tags.filter((t) => t === Tags.pool || t === Tags.init);
        if (volume.vg === group.name && stale.length > 0 && !doomed.includes(volume as ThinVolume)) {
          await this.volumes.change(volume, { removeTags: stale }, context);
        }
      }
      await this.volumes.changeGroup(group.name, { removeTags: [Tags.group, Tags.pending] }, context);
    }
    return doomed.map((v) => v.name);
  }

  private async createVolume(tx: Transaction, result: ChangeResult, request: CreateVolumeRequest): Promise<void> {
    tx.checkpoint('create');
    step(
      tx,
      'create',
      `Creating ${request.kind === 'snapshot' ? `${request.name} from ${request.origin}` : request.name}`,
    );
    await this.volumes.create(request, tx.context);
    result.created.push(request.name);
    tx.onUndo(`remove ${request.name}`, (c) => this.volumes.remove(request, c));
    tx.onCommit(`settle ${request.name}`, (c) => this.volumes.change(request, { removeTags: [Tags.pending] }, c));
  }

  /** Bases are read-only and skipped at activation, as in the original. */
  private async protectBase(tx: Transaction, ref: VolumeRef): Promise<void> {
    step(tx, 'protect', `Protecting base ${ref.name} (read-only, activation skip)`);
    await this.volumes.change(ref, { readOnly: true, activationSkip: true, active: false }, tx.context);
  }

  private async makeLayer(tx: Transaction, result: ChangeResult, source: VolumeRef, name: string): Promise<void> {
    await this.createVolume(tx, result, {
      kind: 'snapshot',
      vg: source.vg,
      origin: source.name,
      name,
      tags: [Tags.layer, Tags.pending],
    });
    const ref = { vg: source.vg, name };
    await this.volumes.change(ref, { readOnly: false, activationSkip: false, active: true }, tx.context);
    tx.checkpoint('layer');
    step(tx, 'uuid', `Giving ${name} a file system UUID of its own`);
    await this.filesystem.regenerateUuid(volumePath(ref), tx.context);
  }

  private async addTags(tx: Transaction, target: VolumeRef, tags: string[]): Promise<void> {
    await this.volumes.change(target, { addTags: tags }, tx.context);
    tx.onUndo(`untag ${target.name}`, (c) => this.volumes.change(target, { removeTags: tags }, c));
  }

  private async resolveSource(from: string, report: StorageReport, context: OperationContext): Promise<ThinVolume> {
    const candidates = report.volumes;
    let found: ThinVolume[];
    if (from.startsWith('@')) {
      found = candidates.filter((v) => v.tags.includes(from.slice(1)));
    } else if (from.startsWith('/dev/') || /^[^/]+\/[^/]+$/.test(from)) {
      const [vg, name] = from.replace(/^\/dev\//, '').split('/');
      found = candidates.filter((v) => v.vg === vg && v.name === name);
    } else if (from.startsWith('/')) {
      const mounted = await this.host.deviceOfMount(from, context);
      const match = mounted.device && findVolumeByDevice(candidates, mounted.device);
      if (!match) throw new NoThinPoolError(`${from} (${mounted.source})`);
      found = [match];
    } else {
      found = [];
    }
    if (found.length !== 1) throw new VolumeNotFoundError(from);
    return found[0]!;
  }
}

/** imgbased's installed entries as desired entries that keep their files and arguments. */
function keptEntries(state: BootState): (DesiredBootEntry & { layer: string })[] {
  return state.entries
    .filter((e): e is BootEntry & { layer: string } => e.layer !== undefined)
    .map((e) => ({ layer: e.layer, title: e.title, version: e.version, options: e.options, files: keptFiles(e) }));
}

function entryView(entry: BootEntry, state: BootState): BootList['entries'][number] {
  return {
    id: entry.id,
    title: entry.title,
    version: entry.version,
    kernel: entry.kernel,
    initrd: entry.initrd ?? null,
    options: [...entry.options],
    layer: entry.layer ?? null,
    isDefault: entry.id === state.defaultId,
    isNext: entry.id === state.nextId,
    triesLeft: entry.tries?.left ?? null,
  };
}

function requireLayout(report: StorageReport): LayoutView {
  const layout = readLayout(report);
  if (!layout) throw new NoLayoutError();
  return layout;
}

function pickLayerSource(layout: LayoutView, from: string | undefined): { base: BaseView; source: string } {
  if (from === undefined) {
    const base = latestBase(layout);
    if (!base) throw new BaseNotFoundError('(latest)');
    return { base, source: base.layers.at(-1)?.name ?? base.name };
  }
  if (from.includes('+')) {
    const base = layout.bases.find((b) => b.layers.some((l) => l.name === from));
    if (!base) throw new LayerNotFoundError(from);
    return { base, source: from };
  }
  const base = layout.bases.find((b) => b.name === from);
  if (!base) throw new BaseNotFoundError(from);
  return { base, source: base.layers.at(-1)?.name ?? base.name };
}

function findVolumeByDevice(
  volumes: readonly ThinVolume[],
  device: { major: number; minor: number },
): ThinVolume | undefined {
  return volumes.find((v) => v.device?.major === device.major && v.device.minor === device.minor);
}

function findByDevice<T extends { name: string }>(
  views: readonly T[],
  report: StorageReport,
  device: { major: number; minor: number },
): T | undefined {
  const volume = findVolumeByDevice(report.volumes, device);
  return volume && views.find((v) => v.name === volume.name);
}

function step(tx: Transaction, name: string, message: string): void {
  emit(tx.context, { type: 'step', step: name, message });
}

import {
  composeKernelArgs,
  desiredFromInstalled,
  entryIdForLayer,
  entryTitle,
  type FoundKernel,
  findKernel,
  keptFiles,
  layerBootDir,
} from '../boot/entries.js';
import type {
  BootEntry,
  Bootloader,
  BootloaderSelection,
  BootState,
  DesiredBootEntry,
} from '../contracts/bootloader.js';
import type { FilesystemDriver } from '../contracts/filesystem.js';
import type { HostInfo } from '../contracts/host.js';
import { type VolumeManager, volumePath } from '../contracts/volume-manager.js';
import { BootLastEntryError } from '../errors/index.js';
import { emit, type OperationContext } from '../events.js';
import type { ChangeResult } from '../layout/schema.js';
import { Tags } from '../layout/tags.js';
import { step } from './change-path.js';
import type { Transaction } from './transaction.js';

/** imgbased's installed entries as desired entries that keep their files and arguments. */
export function keptEntries(state: BootState): (DesiredBootEntry & { layer: string })[] {
  return (
    state.entries
      .filter((e): e is BootEntry & { layer: string } => e.layer !== undefined)
      // Each keeps its own id: entries another tool wrote (the original's `<layer>-<kver>`) stay those files.
      .map((e) => ({
        id: e.id,
        layer: e.layer,
        title: e.title,
        version: e.version,
        options: e.options,
        files: keptFiles(e),
      }))
  );
}

/**
 * Keeps the boot entries in step with the volumes, as steps of a lifecycle operation (undone with
 * it): the entry of a new layer, and the entries of layers about to be removed. The order keeps the
 * boot configuration safe at any instant a crash can observe: a new layer's entry is written while
 * its volume is still pending and becomes the default only when the operation commits, after the
 * volume is settled; undo steps are registered before the write they undo, so a write that fails half
 * way is undone too. What a kill leaves, recovery (reconcile-boot) takes back.
 */
export class BootEntries {
  constructor(
    private readonly filesystem: FilesystemDriver,
    private readonly host: HostInfo,
    private readonly bootloaders: BootloaderSelection | undefined,
    /** To restore, on undo, only the entries of layers whose volumes are still there. */
    private readonly volumes?: VolumeManager,
  ) {}

  /** The bootloader in use; undefined when none is configured or present. */
  bootloader(context: OperationContext): Promise<Bootloader | undefined> {
    return this.bootloaders?.select(context) ?? Promise.resolve(undefined);
  }

  /**
   * Writes the boot entry of a new layer: the kernel and initrd of the source layer's entry, or else
   * the newest kernel in the new layer's /boot, with the arguments composed for the new layer. The new
   * layer becomes the default, as in the original, in a commit step (after its volume is settled). With
   * no bootloader present (config `auto`) or no kernel to be found, no entry is written and a warning
   * says so; a dry run writes none. An entry the layer already has (left by a killed run) is replaced.
   * `makeDefault: false` (recover's missing entries) leaves the default where it is.
   */
  async addBootEntry(
    tx: Transaction,
    result: ChangeResult,
    vg: string,
    layer: string,
    source: string,
    options: { readonly makeDefault?: boolean } = {},
  ): Promise<void> {
    const bootloader = await this.bootloader(tx.context);
    if (!bootloader) {
      emit(tx.context, { type: 'warning', message: `no bootloader found: no boot entry was written for ${layer}` });
      return;
    }
    if (tx.context.dryRun) {
      step(tx, 'boot', `Would write the ${bootloader.name} boot entry of ${layer}`);
      return;
    }
    tx.checkpoint('boot entry');
    const state = await bootloader.state(tx.context);
    const own = keptEntries(state).filter((e) => e.layer !== layer);
    const from = state.entries.find((e) => e.layer === source);
    const write = async (entry: DesiredBootEntry) => {
      step(tx, 'boot', `Writing the ${bootloader.name} boot entry of ${layer}`);
      tx.onUndo(`remove the boot entry of ${layer}`, async (c) => {
        await bootloader.writeEntries(own, { keepDefault: true, allowNoEntries: true }, c);
      });
      const { atomic } = await bootloader.writeEntries([...own, entry], { keepDefault: true }, tx.context);
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
        const release = await this.host.runningKernel(tx.context);
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
    const boot = { bootloader: bootloader.name, added: [id], removed: [], atomic };
    result.boot = boot;
    if (options.makeDefault === false) return;
    // The default moves last, once the volume it will name is committed (commit steps run in order).
    tx.onCommit(`make ${id} the default`, async (c) => {
      const set = await bootloader.setDefault(id, c);
      boot.atomic &&= set.atomic;
    });
  }

  /**
   * Takes the entries of layers about to be removed out of the boot configuration, keeping their files
   * until the operation commits (then their `/<layer>/` directories go); refuses (before any change)
   * to remove the last bootable entry. Undone by restoring the entries, and the default, of the layers
   * whose volumes are still there (removed volumes are not brought back).
   */
  async removeBootEntries(tx: Transaction, result: ChangeResult, layers: readonly string[]): Promise<void> {
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
    if (tx.context.dryRun) {
      step(tx, 'boot', `Would remove the ${bootloader.name} boot entries of ${layers.join(', ')}`);
      return;
    }
    step(tx, 'boot', `Removing the ${bootloader.name} boot entries of ${layers.join(', ')}`);
    tx.onUndo('restore the boot entries', async (c) => {
      const present = await this.presentLayers(c);
      const restored = own.filter((e) => present === undefined || present.has(e.layer));
      await bootloader.writeEntries(restored, { keepFiles: true, keepDefault: true, allowNoEntries: true }, c);
      const previous = state.entries.find((e) => e.id === state.defaultId);
      if (previous && (previous.layer === undefined || restored.some((e) => e.layer === previous.layer))) {
        await bootloader.setDefault(previous.id, c);
      }
      const gone = leaving.filter((e) => !restored.some((r) => r.layer === e.layer)).map((e) => e.layer!);
      if (gone.length > 0) await this.removeLayerFiles(bootloader, gone, c);
    });
    const { atomic } = await bootloader.writeEntries(remaining, { keepFiles: true }, tx.context);
    tx.onCommit('remove the files of removed boot entries', (c) =>
      this.removeLayerFiles(
        bootloader,
        leaving.map((e) => e.layer!),
        c,
      ),
    );
    result.boot = { bootloader: bootloader.name, added: [], removed: leaving.map((e) => e.id), atomic };
  }

  /**
   * Before layers are removed: refuses (changing nothing) to remove the last bootable entry, and when
   * the default is an entry of `layers`, points it at the newest entry that stays (a foreign one when
   * none of imgbased's stays), so that the default names a layer that stays at every later instant.
   */
  async moveDefaultOff(tx: Transaction, layers: readonly string[]): Promise<void> {
    const bootloader = await this.bootloader(tx.context);
    if (!bootloader) return;
    const state = await bootloader.state(tx.context);
    const leaving = state.entries.filter((e) => e.layer !== undefined && layers.includes(e.layer));
    const staying = state.entries.filter((e) => e.layer === undefined || !layers.includes(e.layer));
    if (leaving.length > 0 && staying.length === 0) throw new BootLastEntryError(leaving.at(-1)!.layer!);
    const previous = state.defaultId;
    if (previous === undefined || !leaving.some((e) => e.id === previous)) return;
    // Never onto a layer still pending (update's new layer, before its commit): a kill would leave a
    // default naming a volume that recovery removes.
    const settled = await this.settledLayers(tx.context);
    const bootable = (e: BootEntry) => e.layer === undefined || settled === undefined || settled.has(e.layer);
    const next = staying.findLast((e) => e.layer !== undefined && bootable(e)) ?? staying.find(bootable) ?? staying[0]!;
    if (tx.context.dryRun) {
      step(tx, 'boot', `Would make ${next.id} the default`);
      return;
    }
    step(tx, 'boot', `Making ${next.id} the default, as ${previous} is removed`);
    tx.onUndo(`make ${previous} the default again`, async (c) => {
      const present = await this.presentLayers(c);
      const layer = leaving.find((e) => e.id === previous)?.layer;
      if (present === undefined || (layer !== undefined && present.has(layer)))
        await bootloader.setDefault(previous, c);
    });
    await bootloader.setDefault(next.id, tx.context);
  }

  /** Removes the `/<layer>/` directories of `layers` (none that an installed entry boots from). */
  private async removeLayerFiles(bootloader: Bootloader, layers: readonly string[], context: OperationContext) {
    const own = await bootloader.ownFiles?.(context);
    if (own === undefined || !bootloader.removeOwnFiles) return;
    await bootloader.removeOwnFiles(
      layers.map((layer) => `${own.root}${layerBootDir(layer)}`),
      context,
    );
  }

  /** The names of the volumes there now; undefined when that cannot be told (then nothing is filtered). */
  private async presentLayers(context: OperationContext): Promise<Set<string> | undefined> {
    if (!this.volumes) return undefined;
    const report = await this.volumes.report(context);
    return new Set(report.volumes.map((v) => v.name));
  }

  /** The volumes there and not tagged pending; undefined without a volume manager. */
  private async settledLayers(context: OperationContext): Promise<Set<string> | undefined> {
    if (!this.volumes) return undefined;
    const report = await this.volumes.report(context);
    return new Set(report.volumes.filter((v) => !v.tags.includes(Tags.pending)).map((v) => v.name));
  }

  /** The kernel to boot from a /boot directory: `prefer`'s version when it is there, else the newest. */
  private async kernelIn(
    bootDir: string,
    prefer: string | undefined,
    context: OperationContext,
  ): Promise<FoundKernel | undefined> {
    return findKernel(await this.host.listDirectory(bootDir, context), prefer);
  }
}

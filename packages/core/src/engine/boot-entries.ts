import {
  composeKernelArgs,
  desiredFromInstalled,
  entryIdForLayer,
  entryTitle,
  type FoundKernel,
  findKernel,
  keptFiles,
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
import { volumePath } from '../contracts/volume-manager.js';
import { BootLastEntryError } from '../errors/index.js';
import { emit, type OperationContext } from '../events.js';
import type { ChangeResult } from '../layout/schema.js';
import { step } from './change-path.js';
import type { Transaction } from './transaction.js';

/** imgbased's installed entries as desired entries that keep their files and arguments. */
export function keptEntries(state: BootState): (DesiredBootEntry & { layer: string })[] {
  return state.entries
    .filter((e): e is BootEntry & { layer: string } => e.layer !== undefined)
    .map((e) => ({ layer: e.layer, title: e.title, version: e.version, options: e.options, files: keptFiles(e) }));
}

/**
 * Keeps the boot entries in step with the volumes, as steps of a lifecycle operation (undone with
 * it): the entry of a new layer, and the entries of layers about to be removed.
 */
export class BootEntries {
  constructor(
    private readonly filesystem: FilesystemDriver,
    private readonly host: HostInfo,
    private readonly bootloaders: BootloaderSelection | undefined,
  ) {}

  /** The bootloader in use; undefined when none is configured or present. */
  bootloader(context: OperationContext): Promise<Bootloader | undefined> {
    return this.bootloaders?.select(context) ?? Promise.resolve(undefined);
  }

  /**
   * Writes the boot entry of a new layer: the kernel and initrd of the source layer's entry, or else
   * the newest kernel in the new layer's /boot, with the arguments composed for the new layer. The new
   * layer becomes the default, as in the original. With no bootloader present (config `auto`) or no
   * kernel to be found, no entry is written and a warning says so; a dry run writes none.
   */
  async addBootEntry(tx: Transaction, result: ChangeResult, vg: string, layer: string, source: string): Promise<void> {
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

  /**
   * Takes the entries of layers about to be removed out of the boot configuration, keeping their files
   * until the operation commits; refuses (before any change) to remove the last bootable entry.
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

  /** The kernel to boot from a /boot directory: `prefer`'s version when it is there, else the newest. */
  private async kernelIn(
    bootDir: string,
    prefer: string | undefined,
    context: OperationContext,
  ): Promise<FoundKernel | undefined> {
    return findKernel(await this.host.listDirectory(bootDir, context), prefer);
  }
}

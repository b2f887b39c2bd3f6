import type {
  Bootloader,
  BootloaderCapabilities,
  BootState,
  DesiredBootEntry,
  OwnBootFiles,
  WriteEntriesOptions,
  WriteResult,
} from '../contracts/bootloader.js';
import type {
  BootConfiguration,
  BootConfigurationChange,
  BootFileOps,
  BootLocation,
  BootloaderPlugin,
  RenderedBootEntry,
} from '../contracts/bootloader-plugin.js';
import type { HostInfo } from '../contracts/host.js';
import type { TrialBootloader } from '../contracts/trial-bootloader.js';
import {
  BootConfigInvalidError,
  BootEntryNotFoundError,
  BootUnsupportedError,
  ImgbasedError,
} from '../errors/index.js';
import { emit, type OperationContext } from '../events.js';
import { desiredEntryId, entryFilePaths, layerBootDir } from './entries.js';
import {
  asBootWriteError,
  assertNotLastEntry,
  defaultAfterRewrite,
  installEntryFiles,
  listOwnFiles,
  namedDirectories,
  pruneEntryFiles,
} from './files.js';
import { ManagedTrialBootloader } from './managed-trial-bootloader.js';

/** File systems on which a rename is not atomic (the ESP is FAT). */
const NON_ATOMIC_FS = new Set(['vfat', 'msdos', 'exfat', 'fat']);

/**
 * The engine's Bootloader, made from a plugin: the sequence every bootloader shares, written once.
 * `writeEntries`: read and validate (a corrupted configuration is refused, nothing touched) → stage
 * the kernels of new entries (nothing names them yet) → the plugin renders and swaps in its
 * configuration, with the default → only then prune the files of entries that left. A failure removes
 * what was staged, except what the configuration names before or after it (the swap may have happened
 * before the failure); pruning is cleanup after the swap: its failure is a warning, and recovery
 * finds the files left (`ownFiles`).
 * A dry run (`context.dryRun`) reads and validates, then only describes what it would write.
 */
export class ManagedBootloader implements Bootloader {
  readonly name: string;

  constructor(
    private readonly plugin: BootloaderPlugin,
    private readonly ops: BootFileOps,
    private readonly host: Pick<HostInfo, 'filesystemType'>,
  ) {
    this.name = plugin.name;
  }

  detect(context?: OperationContext): Promise<boolean> {
    return this.plugin.detect(context);
  }

  async capabilities(context?: OperationContext): Promise<BootloaderCapabilities> {
    const location = await this.plugin.locate(context);
    return {
      atomicSwap: await this.atomicAt(location, context),
      nativeOneShot: this.plugin.oneShot === undefined ? false : await this.plugin.oneShot.available(location, context),
      nativeBootCounting: this.plugin.bootCounting === true,
    };
  }

  async state(context?: OperationContext): Promise<BootState> {
    const { before } = await this.read(context);
    return { entries: before.entries, defaultId: before.defaultId, nextId: before.nextId };
  }

  async writeEntries(
    desired: readonly DesiredBootEntry[],
    options: WriteEntriesOptions = {},
    context?: OperationContext,
  ): Promise<WriteResult> {
    const { location, before } = await this.read(context);
    const installed = before.entries;
    if (!options.allowNoEntries) assertNotLastEntry(installed, desired);
    const atomic = await this.atomicAt(location, context);
    // keepDefault: none configured stays none; one configured moves only off an entry that leaves.
    const unset = options.keepDefault && before.defaultId === undefined;
    const change = {
      entries: onePerId(desired.map((entry) => rendered(entry, installed))),
      defaultId: unset ? undefined : defaultAfterRewrite(before.defaultId, installed, desired),
    };
    if (context?.dryRun) {
      emit(context, {
        type: 'step',
        step: 'boot',
        message: `Would write ${location.config}: ${change.entries.map((e) => e.id).join(', ') || 'no imgbased entries'}`,
      });
      return { atomic };
    }
    let staged: string[] = [];
    let filesReplaced: number;
    try {
      staged = await installEntryFiles(this.ops, location.root, desired, installed);
      filesReplaced = await this.swapIn(location, change, before, context);
    } catch (error) {
      await this.unstage(location, staged, installed, context);
      throw asBootWriteError(error, location.config);
    }
    if (!options.keepFiles) {
      await pruneEntryFiles(this.ops, location.root, installed, desired).catch((error: unknown) => {
        emit(context, {
          type: 'warning',
          message: `could not remove the boot files of removed entries under ${location.root} (the next change will): ${asBootWriteError(error, location.root).message}`,
        });
      });
    }
    return { atomic: atomic && filesReplaced <= 1 };
  }

  /**
   * The plugin's write, in two steps when the default moves away from an entry that leaves: first the
   * new entries beside the old ones with the new default, then without the old ones. A plugin that
   * writes its entries and its default in separate files (BLS + loader.conf or grubenv) can then never
   * be caught naming, as the default, an entry that is already gone.
   */
  private async swapIn(
    location: BootLocation,
    change: BootConfigurationChange,
    before: BootConfiguration,
    context?: OperationContext,
  ): Promise<number> {
    const kept = new Set(change.entries.map((e) => e.id));
    const leaving = before.entries.filter((e) => e.layer !== undefined && !kept.has(e.id));
    if (change.defaultId === before.defaultId || leaving.length === 0) {
      return (await this.plugin.write(location, change, before, context)).filesReplaced;
    }
    const both = [...leaving.map((e) => ({ ...e, layer: e.layer! })), ...change.entries];
    const first = await this.plugin.write(location, { entries: both, defaultId: change.defaultId }, before, context);
    const middle = await this.plugin.read(location, context);
    const second = await this.plugin.write(location, change, middle, context);
    return first.filesReplaced + second.filesReplaced;
  }

  trial(): TrialBootloader | undefined {
    return this.plugin.trial === undefined ? undefined : new ManagedTrialBootloader(this.plugin, this.ops);
  }

  async ownFiles(context?: OperationContext): Promise<OwnBootFiles> {
    const location = await this.plugin.locate(context);
    return listOwnFiles(this.ops, location);
  }

  async removeOwnFiles(paths: readonly string[], context?: OperationContext): Promise<void> {
    const { location, before } = await this.read(context);
    const own = await listOwnFiles(this.ops, location);
    const named = namedDirectories(location.root, before.entries);
    const removable = new Set([...own.layerDirs.map((n) => `${own.root}/${n}`), ...own.leftovers]);
    const doomed = paths.filter((p) => removable.has(p) && !named.has(p));
    if (context?.dryRun) {
      if (doomed.length > 0)
        emit(context, { type: 'step', step: 'boot', message: `Would remove ${doomed.join(', ')}` });
      return;
    }
    try {
      for (const path of doomed) await this.ops.remove(path);
      if (doomed.length > 0) await this.ops.syncDirectory(own.root);
    } catch (error) {
      throw asBootWriteError(error, location.root);
    }
  }

  /**
   * After a failed write: removes the directories this write made, except those that an entry names,
   * before the write or now (a plugin may fail after its swap). When the configuration cannot be read
   * again, nothing is removed: a directory too many is recovery's, a missing kernel would not boot.
   */
  private async unstage(
    location: BootLocation,
    staged: readonly string[],
    installed: BootConfiguration['entries'],
    context?: OperationContext,
  ): Promise<void> {
    if (staged.length === 0) return;
    const now = await this.plugin.read(location, context).catch(() => undefined);
    if (now === undefined) return;
    const entries = [...installed, ...now.entries];
    const named = namedDirectories(location.root, entries);
    for (const entry of entries)
      if (entry.layer !== undefined) named.add(`${location.root}${layerBootDir(entry.layer)}`);
    for (const layer of staged) {
      const directory = `${location.root}${layerBootDir(layer)}`;
      if (!named.has(directory)) await this.ops.remove(directory).catch(() => undefined);
    }
  }

  async setDefault(entryId: string, context?: OperationContext): Promise<WriteResult> {
    const { location, before } = await this.read(context);
    if (!before.entries.some((e) => e.id === entryId)) throw new BootEntryNotFoundError(entryId, this.name);
    const atomic = await this.atomicAt(location, context);
    if (context?.dryRun) {
      emit(context, { type: 'step', step: 'boot', message: `Would make ${entryId} the default (${this.name})` });
      return { atomic };
    }
    const { filesReplaced } = await this.plugin
      .writeDefault(location, entryId, before, context)
      .catch((error: unknown) => {
        throw asBootWriteError(error, location.config);
      });
    return { atomic: atomic && filesReplaced <= 1 };
  }

  async setNextBoot(entryId: string, context?: OperationContext): Promise<WriteResult> {
    const { location, before } = await this.read(context);
    if (!before.entries.some((e) => e.id === entryId)) throw new BootEntryNotFoundError(entryId, this.name);
    const oneShot = this.plugin.oneShot;
    if (oneShot === undefined)
      throw new BootUnsupportedError(this.name, 'boot an entry once (it has no one-shot boot)');
    if (!(await oneShot.available(location, context))) {
      throw new BootUnsupportedError(this.name, 'boot an entry once on this host now');
    }
    if (context?.dryRun) {
      emit(context, { type: 'step', step: 'boot', message: `Would boot ${entryId} once (${this.name})` });
      return { atomic: true };
    }
    await oneShot.set(location, entryId, before, context).catch((error: unknown) => {
      throw asBootWriteError(error, location.config);
    });
    return { atomic: await this.atomicAt(location, context) };
  }

  /** Locates and reads the configuration; any failure is typed, naming the configuration. */
  private async read(context?: OperationContext): Promise<{ location: BootLocation; before: BootConfiguration }> {
    const location = await this.plugin.locate(context);
    try {
      return { location, before: await this.plugin.read(location, context) };
    } catch (error) {
      if (error instanceof ImgbasedError) throw error;
      if (typeof (error as { code?: unknown }).code === 'string') throw asBootWriteError(error, location.config);
      throw new BootConfigInvalidError(location.config, error instanceof Error ? error.message : String(error));
    }
  }

  private async atomicAt(location: BootLocation, context?: OperationContext): Promise<boolean> {
    const type = await this.host.filesystemType(location.root, context).catch(() => undefined);
    return !NON_ATOMIC_FS.has(type ?? '');
  }
}

function rendered(entry: DesiredBootEntry, installed: BootConfiguration['entries']): RenderedBootEntry {
  const paths = entryFilePaths(entry);
  return {
    id: desiredEntryId(entry, installed),
    layer: entry.layer,
    title: entry.title,
    version: entry.version,
    kernel: paths.kernel,
    initrd: paths.initrd,
    options: entry.options,
  };
}

/** One entry per id (the last wins): two desired entries of one layer that name no id are one entry. */
function onePerId(entries: readonly RenderedBootEntry[]): RenderedBootEntry[] {
  return entries.filter((entry, index) => !entries.slice(index + 1).some((later) => later.id === entry.id));
}

import { desiredFromInstalled, validateKernelArg } from '../boot/entries.js';
import type { BootEntry, Bootloader, BootState, WriteResult } from '../contracts/bootloader.js';
import { BootEntryNotFoundError, LayerNotFoundError, NoBootloaderError, UsageError } from '../errors/index.js';
import type { OperationContext } from '../events.js';
import { allLayers } from '../layout/layout.js';
import type {
  BootChange,
  BootDefault,
  BootDefaultChange,
  BootList,
  KernelArgs,
  KernelArgsChange,
  LayoutView,
} from '../layout/schema.js';
import { parseLayerName } from '../naming/nvr.js';
import { type BootEntries, keptEntries } from './boot-entries.js';
import { trialBootStates } from './boot-states.js';
import { type ChangePath, step } from './change-path.js';
import { requireLayout } from './layout-lookups.js';
import type { LayoutQueries } from './layout-queries.js';
import type { KernelArgsEdit } from './requests.js';
import type { Transaction } from './transaction.js';
import { endTrialForDefault } from './trial-end.js';

interface LayerEntry {
  readonly bootloader: Bootloader;
  readonly state: BootState;
  readonly entry: BootEntry;
  readonly vg: string;
}

/**
 * The boot verbs. Reading ones read; changing ones (`--set-default`, `--next`, `--edit-kernel-args`)
 * take the same change path as the volume verbs: lock, recovery, transaction. A dry run describes the
 * change and writes nothing.
 */
export class BootVerbs {
  constructor(
    private readonly path: ChangePath,
    private readonly queries: LayoutQueries,
    private readonly boot: BootEntries,
  ) {}

  /** The installed boot entries, the default and the one-shot; an empty list when no bootloader is present. */
  async bootList(context: OperationContext): Promise<BootList> {
    const bootloader = await this.boot.bootloader(context);
    if (!bootloader) return { bootloader: null, capabilities: null, default: null, next: null, entries: [] };
    const [state, capabilities] = await Promise.all([bootloader.state(context), bootloader.capabilities(context)]);
    const bootStates = await trialBootStates(bootloader, context);
    return {
      bootloader: bootloader.name,
      capabilities,
      default: state.defaultId ?? null,
      next: state.nextId ?? null,
      entries: state.entries.map((e) => ({ ...entryView(e, state), bootState: bootStates(e.layer) })),
    };
  }

  async bootDefault(context: OperationContext): Promise<BootDefault> {
    const bootloader = await this.boot.bootloader(context);
    if (!bootloader) return { bootloader: null, entry: null, layer: null };
    const state = await bootloader.state(context);
    const entry = state.entries.find((e) => e.id === state.defaultId);
    return { bootloader: bootloader.name, entry: state.defaultId ?? null, layer: entry?.layer ?? null };
  }

  /** Makes `layer` the default boot entry. */
  async setDefaultBoot(layer: string, context: OperationContext): Promise<BootDefaultChange> {
    const change = await this.bootChange(
      'boot --set-default',
      layer,
      context,
      (b, id, c) => b.setDefault(id, c),
      'defaultId',
    );
    return { ...change, trial: false };
  }

  /** Boots `layer` once, at the next boot only (where the bootloader supports it). */
  setNextBoot(layer: string, context: OperationContext): Promise<BootChange> {
    return this.bootChange('boot --next', layer, context, (b, id, c) => b.setNextBoot(id, c), 'nextId');
  }

  /** The kernel arguments of `layer`'s boot entry. */
  async kernelArgs(layer: string, context: OperationContext): Promise<KernelArgs> {
    parseLayerName(layer);
    const { bootloader, entry } = await this.entryOfLayer(layer, await this.queries.layout(context), context);
    return { bootloader: bootloader.name, layer, entry: entry.id, options: [...entry.options] };
  }

  /**
   * Appends and deletes kernel arguments of `layer`'s entry (`key=value` replaces the key's value; a
   * deleted `key` takes every `key`/`key=…`, `key=value` only that one). The whole entry set is written
   * as one swap; layers later made from this one inherit the arguments, as they inherit its kernel.
   */
  async editKernelArgs(layer: string, edit: KernelArgsEdit, context: OperationContext): Promise<KernelArgsChange> {
    parseLayerName(layer);
    const append = edit.append ?? [];
    const remove = edit.delete ?? [];
    if (append.length === 0 && remove.length === 0)
      throw new UsageError('boot --edit-kernel-args needs at least one --append ARG or --delete ARG');
    for (const arg of [...append, ...remove]) validateKernelArg(arg);
    const { value } = await this.path.run('boot --edit-kernel-args', context, async (tx, report) => {
      const { bootloader, state, entry, vg } = await this.entryOfLayer(layer, requireLayout(report), tx.context);
      const edited = desiredFromInstalled(entry, layer, vg, { add: append, remove });
      // Keep the entry's own title (it names the kernel it boots); only the command line changes.
      const desired = { ...edited, id: entry.id, title: entry.title };
      const base = { dryRun: Boolean(context.dryRun), bootloader: bootloader.name, layer, entry: entry.id };
      const change = { ...base, previous: [...entry.options], options: [...desired.options] };
      if (context.dryRun) {
        step(tx, 'boot', `Would set the kernel arguments of ${entry.id} (dry run)`);
        return { ...change, atomic: true };
      }
      step(tx, 'boot', `Setting the kernel arguments of ${entry.id}`);
      const own = keptEntries(state);
      const { atomic } = await bootloader.writeEntries(
        own.map((e) => (e.layer === layer ? desired : e)),
        {},
        tx.context,
      );
      tx.onUndo(`restore the kernel arguments of ${entry.id}`, async (c) => {
        await bootloader.writeEntries(own, {}, c);
      });
      return { ...change, atomic };
    });
    return value;
  }

  /** The bootloader in use and the installed entry of `layer`, or the typed error saying which is missing. */
  private async entryOfLayer(layer: string, layout: LayoutView, context: OperationContext): Promise<LayerEntry> {
    if (!allLayers(layout).some((l) => l.name === layer)) throw new LayerNotFoundError(layer);
    const bootloader = await this.boot.bootloader(context);
    if (!bootloader) throw new NoBootloaderError(['auto']);
    const state = await bootloader.state(context);
    const entry = state.entries.find((e) => e.layer === layer);
    if (!entry) throw new BootEntryNotFoundError(layer, bootloader.name);
    return { bootloader, state, entry, vg: layout.vg };
  }

  /** Points the default or the one-shot at `layer`'s entry; undone by pointing it back, when it pointed anywhere. */
  private async bootChange(
    purpose: string,
    layer: string,
    context: OperationContext,
    apply: (bootloader: Bootloader, entryId: string, context: OperationContext) => Promise<WriteResult>,
    changes: 'defaultId' | 'nextId',
  ): Promise<BootChange> {
    parseLayerName(layer);
    const { value } = await this.path.run(purpose, context, async (tx: Transaction, report) => {
      const { bootloader, state, entry } = await this.entryOfLayer(layer, requireLayout(report), tx.context);
      const base = { dryRun: Boolean(context.dryRun), bootloader: bootloader.name, layer, entry: entry.id };
      if (context.dryRun) {
        step(tx, 'boot', `Would make ${entry.id} the entry to boot (dry run)`);
        return { ...base, atomic: true };
      }
      step(tx, 'boot', `${purpose}: ${entry.id} (${bootloader.name})`);
      if (changes === 'defaultId') await endTrialForDefault(bootloader, layer, purpose, tx.context);
      const { atomic } = await apply(bootloader, entry.id, tx.context);
      const previous = state[changes];
      if (previous !== undefined && previous !== entry.id) {
        tx.onUndo(`point ${purpose} back at ${previous}`, async (c) => {
          await apply(bootloader, previous, c);
        });
      }
      return { ...base, atomic };
    });
    return value;
  }
}

function entryView(entry: BootEntry, state: BootState): Omit<BootList['entries'][number], 'bootState'> {
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

import type { Bootloader, BootState } from '../contracts/bootloader.js';
import { emit, type OperationContext } from '../events.js';
import { keptEntries } from './boot-entries.js';
import type { RecoveryStep } from './recovery-plan.js';

/** A recovery step with what carries it out. */
export interface PlannedStep {
  readonly step: RecoveryStep;
  readonly run: (context: OperationContext) => Promise<void>;
}

/**
 * Reconciles the boot configuration with the committed layers, the half of recovery that LVM does not
 * see: entries of layers that are not committed (pending, in an unfinished `layout --init`, or gone)
 * are taken out, a layer's second entry too (the newest written stays); the default and the one-shot
 * move off entries that are not there; `/<layer>/` directories of layers that are not committed and
 * that no entry boots from go, and staging leftovers of a killed write. Plans only: every step runs
 * later (or is only listed, `imgbase recover --list`). A configuration that cannot be read is reported
 * with a warning and left alone (a boot verb then says what is wrong with it).
 */
export async function planBootRepair(
  bootloader: Bootloader | undefined,
  committed: ReadonlySet<string>,
  context: OperationContext,
): Promise<PlannedStep[]> {
  if (!bootloader) return [];
  let state: BootState;
  try {
    state = await bootloader.state(context);
  } catch (error) {
    emit(context, {
      type: 'warning',
      message: `recovery left the boot configuration alone: ${error instanceof Error ? error.message : String(error)}`,
    });
    return [];
  }
  const steps: PlannedStep[] = [];
  const own = keptEntries(state);
  const kept: typeof own = [];
  const removed: string[] = [];
  const duplicates: string[] = [];
  for (const entry of [...own].reverse()) {
    if (!committed.has(entry.layer)) removed.push(entry.layer);
    else if (kept.some((k) => k.layer === entry.layer)) duplicates.push(entry.layer);
    else kept.unshift(entry);
  }
  const keptIds = new Set(
    state.entries.filter((e) => e.layer === undefined || committed.has(e.layer)).map((e) => e.id),
  );
  if (removed.length > 0 || duplicates.length > 0) {
    const what = [
      ...(removed.length > 0 ? [`of ${[...new Set(removed)].reverse().join(', ')} (not committed)`] : []),
      ...(duplicates.length > 0 ? [`duplicated of ${[...new Set(duplicates)].join(', ')}`] : []),
    ];
    steps.push({
      step: {
        kind: 'remove-boot-entries',
        targets: [...new Set([...removed, ...duplicates])],
        message: `Removing the ${bootloader.name} boot entries ${what.join(' and the entries ')}`,
      },
      run: async (c) => {
        await bootloader.writeEntries(kept, { keepDefault: true, allowNoEntries: true }, c);
      },
    });
  }
  // The default after that write: it moves off a removed entry by itself; one naming no entry at all is moved here.
  const fallback = kept.at(-1);
  const defaultId = state.defaultId;
  const finalDefault =
    defaultId !== undefined && keptIds.has(defaultId) ? defaultId : fallback && entryIdOf(state, fallback.layer);
  if (defaultId !== undefined && !state.entries.some((e) => e.id === defaultId) && finalDefault !== undefined) {
    steps.push({
      step: {
        kind: 'set-default',
        targets: [finalDefault],
        message: `Making ${finalDefault} the default (the default ${defaultId} names no entry)`,
      },
      run: async (c) => {
        await bootloader.setDefault(finalDefault, c);
      },
    });
  }
  const nextId = state.nextId;
  if (nextId !== undefined && !keptIds.has(nextId) && finalDefault !== undefined) {
    steps.push({
      step: {
        kind: 'point-one-shot',
        targets: [finalDefault],
        message: `Pointing the one-shot boot at the default ${finalDefault} (${nextId} is not a committed layer's)`,
      },
      run: async (c) => {
        await bootloader.setNextBoot(finalDefault, c);
      },
    });
  }
  steps.push(...(await planBootFiles(bootloader, committed, new Set(kept.map((e) => e.layer)), context)));
  return steps;
}

/** The id an installed entry of `layer` has (the first of them). */
function entryIdOf(state: BootState, layer: string): string | undefined {
  return state.entries.find((e) => e.layer === layer)?.id;
}

/** `/<layer>/` directories of layers neither committed nor booted by a kept entry, and staging leftovers. */
async function planBootFiles(
  bootloader: Bootloader,
  committed: ReadonlySet<string>,
  keptLayers: ReadonlySet<string>,
  context: OperationContext,
): Promise<PlannedStep[]> {
  if (!bootloader.ownFiles || !bootloader.removeOwnFiles) return [];
  const own = await bootloader.ownFiles(context);
  const stray = [
    ...own.layerDirs.filter((name) => !committed.has(name) && !keptLayers.has(name)).map((n) => `${own.root}/${n}`),
    ...own.leftovers,
  ];
  if (stray.length === 0) return [];
  const remove = bootloader.removeOwnFiles.bind(bootloader);
  return [
    {
      step: {
        kind: 'remove-boot-files',
        targets: stray,
        message: `Removing boot files of layers that are not committed: ${stray.join(', ')}`,
      },
      run: (c) => remove(stray, c),
    },
  ];
}

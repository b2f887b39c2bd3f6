import type { BaseView, ChangeResult } from '../layout/schema.js';
import type { BootEntries } from './boot-entries.js';
import { step } from './change-path.js';
import type { Transaction } from './transaction.js';
import type { VolumeSteps } from './volume-steps.js';

export interface GcPlan {
  /** Bases to remove, oldest first. */
  readonly remove: readonly BaseView[];
  /** Bases left, oldest first. */
  readonly kept: readonly string[];
}

/**
 * Which bases garbage collection removes: the oldest first while more than `keep` are left, never a
 * protected one (the running layer's base, the base the state came from, the new base) nor a pinned
 * one. `bases` is oldest first (the layout's order) and includes the new base.
 */
export function planGc(
  bases: readonly Pick<BaseView, 'name' | 'pinned'>[],
  keep: number,
  protectedNames: readonly (string | undefined)[],
): { remove: string[]; kept: string[] } {
  const remove: string[] = [];
  let left = bases.length;
  for (const base of bases) {
    if (left <= keep) break;
    if (base.pinned || protectedNames.includes(base.name)) continue;
    remove.push(base.name);
    left--;
  }
  return { remove, kept: bases.map((b) => b.name).filter((name) => !remove.includes(name)) };
}

/**
 * The steps that remove a base with everything of it: the boot entries of its layers (their files go
 * when the operation commits), then its layers newest first, then the base, so that wherever this
 * stops, what is left is a valid layout. Volume removals are not undone; callers run this last.
 */
export async function removeBaseSteps(
  tx: Transaction,
  result: ChangeResult,
  steps: VolumeSteps,
  boot: BootEntries,
  vg: string,
  base: Pick<BaseView, 'name' | 'layers'>,
  purpose: string,
): Promise<void> {
  await boot.removeBootEntries(
    tx,
    result,
    base.layers.map((l) => l.name),
  );
  for (const layer of [...base.layers].reverse()) {
    tx.checkpoint(purpose);
    step(tx, 'remove', `Removing layer ${layer.name}`);
    await steps.remove(tx, result, { vg, name: layer.name });
  }
  tx.checkpoint(purpose);
  step(tx, 'remove', `Removing base ${base.name}`);
  await steps.remove(tx, result, { vg, name: base.name });
}

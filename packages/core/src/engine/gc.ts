import type { BaseView } from '../layout/schema.js';

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

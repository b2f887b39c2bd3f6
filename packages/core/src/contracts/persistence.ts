import type { OperationContext } from '../events.js';

export interface PersistencePolicy {
  /** Absolute paths inside the trees, e.g. /etc, /root. */
  readonly paths: readonly string[];
  readonly excludes: readonly string[];
  /** What to do with a file both the admin and the new base changed. */
  readonly onConflict: 'keep-admin' | 'take-new-save-admin' | 'fail';
}

export interface PersistenceTrees {
  /** The old base, read-only. */
  readonly oldBase: string;
  /** The running layer, whose changes are carried over. */
  readonly oldLayer: string;
  /** The new layer, written to. */
  readonly newLayer: string;
}

export interface PersistenceReport {
  readonly copied: readonly string[];
  readonly merged: readonly string[];
  readonly keptFromNewBase: readonly string[];
  readonly deleted: readonly string[];
  readonly conflicts: readonly { readonly path: string; readonly resolution: string }[];
}

/** Carries the admin's state from the running layer into a new base's first layer. */
export interface Persistence {
  readonly name: string;
  carryOver(
    trees: PersistenceTrees,
    policy: PersistencePolicy,
    options: { readonly dryRun: boolean },
    context?: OperationContext,
  ): Promise<PersistenceReport>;
}
export const Persistence = Symbol.for('imgbased.Persistence');

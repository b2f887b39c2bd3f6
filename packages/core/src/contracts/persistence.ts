import type { OperationContext } from '../events.js';

/**
 * What to do with a file that both the admin (old layer vs old base) and the new base changed. Neither
 * version is lost silently: the losing one is kept beside the winner and the conflict is reported with
 * its `savedAs`. A change below a path the new base made a non-directory (e.g. a symlink) is never
 * written through it: the new base's path stays and the admin's entries are saved below `PATH.imgsave/`.
 */
export type ConflictPolicy =
  /**
   * The default. The admin's version wins; the new base's version is kept beside it as `NAME.imgnew`
   * (not for a directory whose only change is its metadata, nor when the new base deleted the file).
   */
  | 'keep-admin'
  /** The new base's version wins; the admin's version is saved beside it as `NAME.imgsave`. */
  | 'take-new-save-admin'
  /** Nothing is written at all: the carry-over fails with PersistenceConflictError. */
  | 'fail';

export interface PersistencePolicy {
  /** Absolute paths inside the trees, e.g. /etc, /root. */
  readonly paths: readonly string[];
  /**
   * Absolute paths left alone, each with everything below it. `*` matches within one path
   * component, `**` across components (rsync's pattern syntax, anchored at the tree's root).
   */
  readonly excludes: readonly string[];
  /** The default conflict policy. */
  readonly onConflict: ConflictPolicy;
  /** Per-path policies: the rule with the longest matching path (itself or an ancestor) wins. */
  readonly conflictRules?: readonly { readonly path: string; readonly onConflict: ConflictPolicy }[] | undefined;
}

export interface PersistenceTrees {
  /** The old base, read-only. */
  readonly oldBase: string;
  /** The running layer, whose changes are carried over. */
  readonly oldLayer: string;
  /** The new layer, written to. */
  readonly newLayer: string;
  /**
   * The thin volumes behind `oldBase` and `oldLayer`, when the engine knows them: a plugin may ask
   * their pool which blocks differ (thin_delta) instead of comparing the whole trees. Optional: a
   * plugin must work without it (plain directories in tests, other volume managers).
   */
  readonly volumes?: PersistenceVolumes | undefined;
}

/** LVM thin volumes of a carry-over, by volume group and logical volume name. */
export interface PersistenceVolumes {
  readonly vg: string;
  /** The old base's logical volume (mounted at `oldBase`). */
  readonly oldBase: string;
  /** The old layer's logical volume (mounted at `oldLayer`). */
  readonly oldLayer: string;
}

export interface PersistenceOptions {
  /** Only plan and report: nothing is written. */
  readonly dryRun: boolean;
  /**
   * Where a plugin that keeps a record of the local changes (tar-diff) writes it: a file path outside
   * the trees or inside the new layer. Default: the plugin's own (see its README).
   */
  readonly deltaPath?: string | undefined;
}

export interface PersistenceConflict {
  /** Absolute path inside the trees (`/etc/passwd` for an account conflict). */
  readonly path: string;
  /** Why it is a conflict, in one line (e.g. `changed on both sides`, `user 'bob' exists in the new base`). */
  readonly reason: string;
  readonly resolution: 'kept-admin' | 'took-new-saved-admin' | 'failed';
  /**
   * Absolute path in the new layer where the losing version was kept: the new base's (`NAME.imgnew`,
   * kept-admin) or the admin's (`NAME.imgsave`, or `PARENT.imgsave/…` below a path the new base made a
   * non-directory; took-new-saved-admin). Absent when there was nothing to keep (a deletion, a
   * directory's metadata) and under `failed`.
   */
  readonly savedAs?: string | undefined;
}

/**
 * Every path is absolute inside the trees (`/etc/hosts`), sorted. A name that is not valid UTF-8 keeps
 * its bytes: each byte outside valid UTF-8 is the lone surrogate U+DC80..U+DCFF (surrogateescape).
 */
export interface PersistenceReport {
  readonly plugin: string;
  readonly dryRun: boolean;
  /** Taken from the old layer (added, modified or metadata-changed by the admin). */
  readonly copied: readonly string[];
  /** Merged entry by entry (passwd, group, shadow, gshadow). */
  readonly merged: readonly string[];
  /** Left alone by the admin and changed by the new base: the new base's version stays. */
  readonly keptFromNewBase: readonly string[];
  /** Deleted by the admin, so deleted in the new layer too. */
  readonly deleted: readonly string[];
  readonly conflicts: readonly PersistenceConflict[];
  /** The record of the local changes that was kept, if the plugin keeps one. */
  readonly delta?: string | undefined;
}

/** Carries the admin's state from the running layer into a new base's first layer. */
export interface Persistence {
  readonly name: string;
  /** Throws PersistenceConflictError (nothing written) on a conflict under policy `fail`. */
  carryOver(
    trees: PersistenceTrees,
    policy: PersistencePolicy,
    options: PersistenceOptions,
    context?: OperationContext,
  ): Promise<PersistenceReport>;
}
export const Persistence = Symbol.for('imgbased.Persistence');

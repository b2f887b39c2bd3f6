/** One repair recovery makes (or would make): what `imgbase recover --list` shows. */
export interface RecoveryStep {
  readonly kind:
    | 'unmount'
    | 'remove-boot-entries'
    | 'set-default'
    | 'point-one-shot'
    | 'remove-boot-files'
    | 'remove-volume'
    | 'undo-init'
    /** Only `imgbase recover`, never the automatic recovery: a committed layer without an entry gets one. */
    | 'add-boot-entry'
    /** Only listed: taking the lock takes a stale one over. */
    | 'remove-stale-lock';
  /** What it acts on: mount points, layers, entry ids, paths or volume names. */
  readonly targets: readonly string[];
  /** One line for a person. */
  readonly message: string;
}

/** What recovery would do now, in order; empty when the host state is consistent. */
export interface RecoveryPlan {
  readonly steps: readonly RecoveryStep[];
}

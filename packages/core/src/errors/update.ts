import { ImgbasedError } from './base.js';

/** Which space an update lacks. */
export type SpaceKind = 'pool-data' | 'pool-metadata' | 'boot';

/** What freeing space would give: a smaller `--keep`, or removing one base by hand. */
export interface SpaceRelief {
  /** `--keep N` (N ≥ 1) and the bytes the bases it removes would free (an upper bound). */
  readonly keep?: { readonly keep: number; readonly freesBytes: number } | undefined;
  /** Bases that may be removed (not running, not pinned), oldest first, with what each frees (an upper bound). */
  readonly removable: readonly { readonly base: string; readonly freesBytes: number }[];
}

const MiB = 1024 ** 2;
const mib = (bytes: number) => `${Math.ceil(bytes / MiB)} MiB`;

/**
 * An update that does not fit: it names the space (pool data, pool metadata, the boot partition),
 * what it needs, what is free and what could be freed. Raised before anything is made.
 */
export class NoSpaceError extends ImgbasedError {
  constructor(space: SpaceKind, where: string, neededBytes: number, freeBytes: number, relief: SpaceRelief) {
    const what = { 'pool-data': 'data', 'pool-metadata': 'metadata', boot: 'space' }[space];
    const hints = [
      ...(relief.keep ? [`--keep ${relief.keep.keep} would free up to ${mib(relief.keep.freesBytes)}`] : []),
      ...relief.removable
        .slice(0, 3)
        .map((r) => `'imgbase base --remove ${r.base}' would free up to ${mib(r.freesBytes)}`),
    ];
    super(
      'E_NO_SPACE',
      `Not enough ${what} in ${where}: the update needs ${mib(neededBytes)}, ${mib(freeBytes)} is free${hints.length > 0 ? ` (${hints.join('; ')})` : ''}; nothing was changed`,
      {
        details: {
          space,
          where,
          neededBytes,
          freeBytes,
          keep: relief.keep ? { ...relief.keep } : null,
          removable: relief.removable.map((r) => ({ ...r })),
        },
      },
    );
  }
}

/** `rollback` without a layer to go back to. */
export class NoRollbackTargetError extends ImgbasedError {
  constructor(reason: string) {
    super('E_NO_ROLLBACK_TARGET', `Nothing to roll back to: ${reason}; nothing was changed`, { details: { reason } });
  }
}

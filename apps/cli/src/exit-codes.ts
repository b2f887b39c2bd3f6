import type { ErrorCode } from '@imgbased/core';

/**
 * `imgbase`'s exit codes: a stable interface scripts branch on. `--help` and imgbase(8) list them from
 * this table, so the documentation cannot drift from what the CLI returns.
 */
export const EXIT_CODES = [
  { code: 0, name: 'ok', meaning: 'done (a dry run: the plan was printed, nothing changed)' },
  { code: 1, name: 'failed', meaning: 'the verb failed; a changing verb undid its own steps first' },
  { code: 2, name: 'usage', meaning: 'usage mistake (unknown option, missing argument): nothing was done' },
  { code: 3, name: 'locked', meaning: 'another imgbased operation holds the lock (E_LOCKED): try again later' },
] as const;

export const ExitCode = { ok: 0, failed: 1, usage: 2, locked: 3 } as const satisfies Record<
  (typeof EXIT_CODES)[number]['name'],
  number
>;

/** The exit code of a failure, by its error code. */
export function exitCodeOf(code: ErrorCode): number {
  if (code === 'E_USAGE') return ExitCode.usage;
  if (code === 'E_LOCKED') return ExitCode.locked;
  return ExitCode.failed;
}

/** The "Exit codes:" section of `--help`. */
export function exitCodesHelp(): string {
  return `\nExit codes:\n${EXIT_CODES.map((e) => `  ${e.code}  ${e.meaning}`).join('\n')}\n`;
}

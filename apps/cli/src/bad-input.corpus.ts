import { readFileSync } from 'node:fs';

/**
 * Bad CLI input, as data (issue 14's "Bad input, counted"): each case is an argv (run with `--json`
 * added) and the error code and exit code `imgbase` must answer with, changing nothing. The cases live
 * in test-e2e/corpus/bad-input/cli.json, shared with the VM test (tests/bad-input.e2e.test.ts) that
 * runs them against real LVM; here they run on adminHost() in memory, running from Base-1-0+2.
 */
export interface BadCliCase {
  readonly argv: readonly string[];
  readonly code: string;
  readonly exit: 1 | 2 | 3;
  /** Run as a user other than root. */
  readonly notRoot?: boolean;
}

export const BAD_CLI_CASES: readonly BadCliCase[] = JSON.parse(
  readFileSync(new URL('../../../test-e2e/corpus/bad-input/cli.json', import.meta.url), 'utf8'),
);

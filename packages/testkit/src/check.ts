import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

/** A check ran to the end (undefined) or could not apply to this plugin (`skipped`, with the reason). */
export type CheckResult = { readonly skipped: string } | undefined;

/** One guarantee of a contract, checked against what a factory makes. Throws when it does not hold. */
export interface ContractCheck<Factory> {
  /** What the guarantee is, as the test's title. */
  readonly title: string;
  run(factory: Factory): Promise<CheckResult>;
}

/** Runs `use` in a new temporary directory (with an empty `host/` in it), removed afterwards. */
export async function inWorkDirectory<T>(use: (work: string) => Promise<T>): Promise<T> {
  const work = await mkdtemp(join(tmpdir(), 'imgbased-testkit-'));
  try {
    await mkdir(join(work, 'host'));
    return await use(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `promise` rejects with an error whose stable `code` is `code`; `what` names the operation in a failure. */
export async function expectCode(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  const outcome = await promise.then(
    () => ({ refused: false as const }),
    (error: unknown) => ({ refused: true as const, error }),
  );
  if (!outcome.refused) expect.fail(`${what}: expected a refusal with ${code}, but it succeeded`);
  const error = outcome.error as { code?: unknown; message?: unknown };
  expect(error.code, `${what}: the error's code (${String(error.message)})`).toBe(code);
}

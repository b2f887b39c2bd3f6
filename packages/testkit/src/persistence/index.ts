import { describe, it } from 'vitest';
import { conflictsByPolicy, definitionIsValid, type PersistenceCheck, threeWayOutcomes } from './checks-outcomes.js';
import {
  badPolicyRefused,
  dryRunWritesNothing,
  nothingOutsideNewLayer,
  symlinkAndDotDotAttacks,
} from './checks-safety.js';
import type { PersistenceContractFactory } from './subject.js';

export type { PersistenceCheck } from './checks-outcomes.js';
export type {
  PersistenceCarry,
  PersistenceContractFactory,
  PersistenceContractSubject,
  PersistenceUnderTest,
} from './subject.js';
export { persistenceUnderTest } from './subject.js';
export { buildTrees, type ContractTrees } from './trees.js';

/** Every guarantee of the persistence contract, one check each, in the order the suite runs them. */
export const persistenceChecks = {
  definitionIsValid,
  threeWayOutcomes,
  conflictsByPolicy,
  nothingOutsideNewLayer,
  symlinkAndDotDotAttacks,
  badPolicyRefused,
  dryRunWritesNothing,
} as const satisfies Record<string, PersistenceCheck>;

/**
 * A vitest suite proving a persistence plugin keeps every guarantee of the contract, one `it` per
 * guarantee, on plain directories in a temporary directory (real files, real tools): call it from a
 * `*.integration.test.ts` file.
 */
export function describePersistenceContract<Settings>(
  name: string,
  factory: PersistenceContractFactory<Settings>,
): void {
  describe(`${name}: persistence plugin contract`, () => {
    for (const check of Object.values(persistenceChecks)) {
      it(check.title, async (context) => {
        const result = await check.run(factory);
        if (result !== undefined) context.skip(result.skipped);
      });
    }
  });
}

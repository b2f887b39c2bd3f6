import { describe, it } from 'vitest';
import {
  type BootloaderCheck,
  crashAtEveryStep,
  definitionIsValid,
  foreignEntryKept,
  roundTrip,
} from './checks-entries.js';
import { corruptionRefused, defaultEntry, honestCapabilities, lastEntryAndDryRun } from './checks-state.js';
import type { BootloaderContractFactory } from './subject.js';

export { type BadBootConfiguration, itRefusesBadBootConfigurations } from './bad-configurations.js';
export type { BootloaderCheck } from './checks-entries.js';
export type {
  BootloaderContractFactory,
  BootloaderContractSubject,
  BootloaderTestEnvironment,
  BootloaderUnderTest,
} from './subject.js';
export { bootloaderUnderTest } from './subject.js';

/** Every guarantee of the bootloader contract, one check each, in the order the suite runs them. */
export const bootloaderChecks = {
  definitionIsValid,
  roundTrip,
  foreignEntryKept,
  crashAtEveryStep,
  corruptionRefused,
  defaultEntry,
  honestCapabilities,
  lastEntryAndDryRun,
} as const satisfies Record<string, BootloaderCheck>;

/**
 * A vitest suite proving a bootloader plugin keeps every guarantee of the contract, one `it` per
 * guarantee, against real files in temporary directories: call it from a `*.integration.test.ts` file.
 */
export function describeBootloaderContract<Settings>(name: string, factory: BootloaderContractFactory<Settings>): void {
  describe(`${name}: bootloader plugin contract`, () => {
    for (const check of Object.values(bootloaderChecks)) {
      it(check.title, async (context) => {
        const result = await check.run(factory);
        if (result !== undefined) context.skip(result.skipped);
      });
    }
  });
}

import { ImgbasedError } from '@imgbased/core';
import { expect, it } from 'vitest';
import { inWorkDirectory } from '../check.js';
import { entryId, hostLayers, kept } from './entries.js';
import { type BootloaderContractFactory, bootloaderUnderTest } from './subject.js';

/** A hand-edited boot configuration with garbage in it, and the error every operation must answer. */
export interface BadBootConfiguration {
  readonly name: string;
  /** Garbles the configuration under the boot partition `root`, where layers 1 and 2 have entries. */
  garble(root: string): Promise<void>;
  /** Default: E_BOOT_CONFIG_INVALID. */
  readonly code?: string;
}

/**
 * Issue 14's "Bad input, counted", boot configurations: over a boot partition holding entries of
 * layers 1 and 2 (layer 2 the default), each case garbles the configuration; reading it, writing
 * entries, setting the default and (when the plugin has one) the one-shot must each be refused with a
 * typed error, the boot partition byte for byte as it was. Prints the count.
 */
export function itRefusesBadBootConfigurations<Settings>(
  name: string,
  factory: BootloaderContractFactory<Settings>,
  cases: readonly BadBootConfiguration[],
): void {
  it(`${name}: refuses each of its ${cases.length} garbled configurations with a typed error, changing nothing`, async () => {
    const wrong: unknown[] = [];
    for (const c of cases) {
      await inWorkDirectory(async (work) => {
        const [one, two, three] = await hostLayers(work);
        const t = await bootloaderUnderTest(factory, work);
        await t.bootloader.writeEntries([one, two]);
        await c.garble(t.root);
        const before = await t.snapshot();
        const code = c.code ?? 'E_BOOT_CONFIG_INVALID';
        const operations: [string, () => Promise<unknown>][] = [
          ['state', () => t.bootloader.state()],
          ['writeEntries', () => t.bootloader.writeEntries([kept(one), three])],
          ['setDefault', () => t.bootloader.setDefault(entryId(1))],
        ];
        if (t.subject.oneShot !== 'skip') operations.push(['setNextBoot', () => t.bootloader.setNextBoot(entryId(1))]);
        for (const [operation, run] of operations) {
          const error = await run().then(
            () => undefined,
            (e: unknown) => e,
          );
          const got = error instanceof ImgbasedError ? error.code : `untyped: ${String(error)}`;
          if (got !== code) wrong.push({ case: c.name, operation, got, want: code });
        }
        const after = await t.snapshot();
        const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
          (path) => before[path] !== after[path],
        );
        if (changed.length > 0) wrong.push({ case: c.name, changed });
      });
    }
    expect(wrong).toEqual([]);
  }, 120_000);
}

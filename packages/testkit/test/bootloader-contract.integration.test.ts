import { describe, expect, it } from 'vitest';
import { bootloaderChecks, describeBootloaderContract } from '../src/index.js';
import { type Flaw, simpleFactory } from './simple-bootloader.js';

// The suite itself, run for the in-test reference plugin, without and with a one-shot boot.
describeBootloaderContract('simple', simpleFactory());
describeBootloaderContract('simple with a one-shot boot', simpleFactory({ oneShot: true }));

type CheckName = keyof typeof bootloaderChecks;

/** Each check, against a plugin with one flaw: it must fail, for the reason it checks. */
const broken: readonly [CheckName, Flaw, RegExp][] = [
  ['definitionIsValid', 'misnamed', /plugin's name/],
  ['roundTrip', 'loses-title', /imgbased's entries read back/],
  ['foreignEntryKept', 'drops-foreign', /the foreign entry after writing one entry/],
  ['crashAtEveryStep', 'in-place', /after a write cut at step \d+/],
  ['corruptionRefused', 'lenient', /reading the corrupted configuration/],
  ['defaultEntry', 'default-first', /the default after writing two entries/],
  ['honestCapabilities', 'fake-one-shot', /state\(\)\.nextId after setNextBoot/],
  ['lastEntryAndDryRun', 'dry-run-preview', /the boot partition after dry runs/],
  ['lastEntryAndDryRun', 'forgets-layers', /removing the last entry/],
];

describe('each bootloader check fails for a plugin that breaks its guarantee, and passes for the correct one', () => {
  it.each(broken)('%s: fails with the flaw %s', async (name, flaw, reason) => {
    const check = bootloaderChecks[name];
    await expect(check.run(simpleFactory({ flaws: [flaw] }))).rejects.toThrow(reason);
    expect(await check.run(simpleFactory({ oneShot: flaw === 'fake-one-shot' }))).toBeUndefined();
  });

  it('skips the one-shot check when the factory says it needs the firmware, and the foreign check without one', async () => {
    const skipping = simpleFactory({ flaws: ['fake-one-shot'], oneShot: 'skip' });
    expect(await bootloaderChecks.honestCapabilities.run(skipping)).toEqual({ skipped: expect.any(String) });
    const noForeign = async (environment: Parameters<ReturnType<typeof simpleFactory>>[0]) => ({
      ...(await simpleFactory()(environment)),
      foreignEntry: undefined,
    });
    expect(await bootloaderChecks.foreignEntryKept.run(noForeign)).toEqual({ skipped: expect.any(String) });
  });

  it('refuses settings the plugin’s own schema refuses', async () => {
    const badSettings = async (environment: Parameters<ReturnType<typeof simpleFactory>>[0]) => ({
      ...(await simpleFactory()(environment)),
      settings: { directory: '../outside' },
    });
    await expect(bootloaderChecks.roundTrip.run(badSettings)).rejects.toThrow(/lower-case letters only/);
  });
});

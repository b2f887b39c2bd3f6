import { expect } from 'vitest';
import { expectCode, inWorkDirectory } from '../check.js';
import type { BootloaderCheck } from './checks-entries.js';
import { entryId, hostLayers, kept, ownEntries } from './entries.js';
import { bootloaderUnderTest } from './subject.js';

export const corruptionRefused: BootloaderCheck = {
  title: 'refuses a corrupted configuration with E_BOOT_CONFIG_INVALID and leaves it byte for byte as it was',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const [one, two] = await hostLayers(work);
      const t = await bootloaderUnderTest(factory, work);
      await t.bootloader.writeEntries([one]);
      await t.subject.corrupt(t.root);
      const before = await t.snapshot();
      const invalid = 'E_BOOT_CONFIG_INVALID';
      await expectCode(t.bootloader.state(), invalid, 'reading the corrupted configuration');
      await expectCode(t.bootloader.writeEntries([kept(one), two]), invalid, 'writing entries over it');
      await expectCode(t.bootloader.setDefault(entryId(1)), invalid, 'setting the default in it');
      await expectCode(t.bootloader.setNextBoot(entryId(1)), invalid, 'setting a one-shot boot in it');
      expect(await t.snapshot(), 'the boot partition after the refused operations').toEqual(before);
      return undefined;
    }),
};

export const defaultEntry: BootloaderCheck = {
  title: 'makes the newest entry the default, sets it, moves it off a removed entry, refuses unknown ids',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const [one, two, three] = await hostLayers(work);
      const t = await bootloaderUnderTest(factory, work);
      await t.bootloader.writeEntries([one, two]);
      expect((await t.bootloader.state()).defaultId, 'the default after writing two entries').toBe(entryId(2));
      await t.bootloader.setDefault(entryId(1));
      const set = await t.bootloader.state();
      expect(set.defaultId, 'the default after setDefault').toBe(entryId(1));
      expect(
        ownEntries(set).map((e) => e.id),
        'the entries after setDefault',
      ).toEqual([entryId(1), entryId(2)]);
      await t.bootloader.writeEntries([kept(two), three]);
      expect((await t.bootloader.state()).defaultId, 'the default after its entry was removed').toBe(entryId(3));
      const before = await t.snapshot();
      await expectCode(
        t.bootloader.setDefault('imgbased-no-such-entry'),
        'E_BOOT_ENTRY_NOT_FOUND',
        'setting an unknown entry as the default',
      );
      expect(await t.snapshot(), 'the boot partition after the refused setDefault').toEqual(before);
      return undefined;
    }),
};

export const honestCapabilities: BootloaderCheck = {
  title: 'boots an entry once when it claims a one-shot boot, and refuses it, changing nothing, when not',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const [one, two] = await hostLayers(work);
      const t = await bootloaderUnderTest(factory, work);
      await t.bootloader.writeEntries([one, two]);
      const { nativeOneShot } = await t.bootloader.capabilities();
      if (nativeOneShot) {
        if (t.subject.oneShot === 'skip') return { skipped: 'the factory says its one-shot needs the firmware' };
        await t.bootloader.setNextBoot(entryId(1));
        const state = await t.reopen().state();
        expect(state.nextId, 'state().nextId after setNextBoot').toBe(entryId(1));
        expect(state.defaultId, 'the default after setNextBoot').toBe(entryId(2));
        return undefined;
      }
      const before = await t.snapshot();
      const stateBefore = await t.bootloader.state();
      await expectCode(t.bootloader.setNextBoot(entryId(1)), 'E_BOOT_UNSUPPORTED', 'setNextBoot without a one-shot');
      expect(await t.snapshot(), 'the boot partition after the refused setNextBoot').toEqual(before);
      expect(await t.bootloader.state()).toEqual(stateBefore);
      return undefined;
    }),
};

export const lastEntryAndDryRun: BootloaderCheck = {
  title: 'never removes the last entry (E_BOOT_LAST_ENTRY), and writes nothing in a dry run',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const [one, two] = await hostLayers(work);
      const t = await bootloaderUnderTest(factory, work);
      await t.bootloader.writeEntries([one]);
      const before = await t.snapshot();
      await expectCode(t.bootloader.writeEntries([]), 'E_BOOT_LAST_ENTRY', 'removing the last entry');
      expect(await t.snapshot(), 'the boot partition after the refused removal').toEqual(before);

      const stateBefore = await t.bootloader.state();
      const dryRun = { dryRun: true };
      await t.bootloader.writeEntries([kept(one), two], {}, dryRun);
      await t.bootloader.writeEntries([two], {}, dryRun);
      await t.bootloader.setDefault(entryId(1), dryRun);
      const { nativeOneShot } = await t.bootloader.capabilities(dryRun);
      if (nativeOneShot) await t.bootloader.setNextBoot(entryId(1), dryRun);
      expect(await t.snapshot(), 'the boot partition after dry runs').toEqual(before);
      expect(await t.reopen().state(), 'the state after dry runs').toEqual(stateBefore);
      return undefined;
    }),
};

import { rm } from 'node:fs/promises';
import { PLUGIN_CONTRACT_VERSIONS } from '@imgbased/core';
import { expect } from 'vitest';
import { type ContractCheck, inWorkDirectory } from '../check.js';
import { entryId, expectBootable, expectOwnEntries, hostLayers, kept } from './entries.js';
import { type BootloaderContractFactory, bootloaderUnderTest } from './subject.js';

// biome-ignore lint/suspicious/noExplicitAny: a check takes a factory of any plugin, whatever its settings
export type BootloaderCheck = ContractCheck<BootloaderContractFactory<any>>;

export const definitionIsValid: BootloaderCheck = {
  title: 'is a bootloader definition for this contract version, named as its plugin',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const { subject, plugin } = await bootloaderUnderTest(factory, work);
      const { definition } = subject;
      expect(definition.kind).toBe('bootloader');
      expect(definition.contractVersion, 'contractVersion').toBe(PLUGIN_CONTRACT_VERSIONS.bootloader);
      expect(definition.name, 'the name the configuration uses').toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(Number.isFinite(definition.probeOrder), 'probeOrder is a number').toBe(true);
      expect(plugin.name, "the plugin's name").toBe(definition.name);
      return undefined;
    }),
};

export const roundTrip: BootloaderCheck = {
  title: 'reads back the entries it wrote: ids, layer, title, version, kernel, initrd, options',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const [one, two, three] = await hostLayers(work);
      const t = await bootloaderUnderTest(factory, work);
      const { root } = await t.location();
      await t.bootloader.writeEntries([one, two]);
      const first = await t.bootloader.state();
      expectOwnEntries(first, [one, two], 'after writing two entries');
      await expectBootable(first, root, 'after writing two entries');
      await t.bootloader.writeEntries([kept(two), three]);
      const second = await t.bootloader.state();
      expectOwnEntries(second, [two, three], 'after a rewrite that keeps one, adds one and removes one');
      await expectBootable(second, root, 'after a rewrite');
      return undefined;
    }),
};

export const foreignEntryKept: BootloaderCheck = {
  title: 'lists an entry imgbased did not write and keeps it unchanged through every write',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const [one, two] = await hostLayers(work);
      const t = await bootloaderUnderTest(factory, work);
      const foreign = t.subject.foreignEntry;
      if (foreign === undefined) return { skipped: 'the factory gives no foreignEntry' };
      await foreign.add(t.root);
      const listed = (await t.bootloader.state()).entries.filter((e) => e.id === foreign.id);
      expect(listed, `the foreign entry ${foreign.id} is listed once`).toHaveLength(1);
      expect(listed[0]!.layer, 'the foreign entry has no layer').toBeUndefined();
      const steps: [string, () => Promise<unknown>][] = [
        ['writing one entry', () => t.bootloader.writeEntries([one])],
        ['setting the default', () => t.bootloader.setDefault(entryId(1))],
        ['adding a second entry', () => t.bootloader.writeEntries([kept(one), two])],
        ['removing the first entry', () => t.bootloader.writeEntries([kept(two)])],
        ['making the foreign entry the default', () => t.bootloader.setDefault(foreign.id)],
      ];
      for (const [what, step] of steps) {
        await step();
        const now = (await t.bootloader.state()).entries.filter((e) => e.id === foreign.id);
        expect(now, `the foreign entry after ${what}`).toEqual(listed);
      }
      return undefined;
    }),
};

/** More cuts than any write of a few entries takes: a write still failing then is a plugin that never finishes. */
const MAX_CUTS = 400;

export const crashAtEveryStep: BootloaderCheck = {
  title: 'leaves a bootable configuration naming only files that exist, wherever a write is cut',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const [one, two, three] = await hostLayers(work);
      for (let cut = 1; cut <= MAX_CUTS; cut++) {
        const t = await bootloaderUnderTest(factory, work, `cut-${cut}`);
        await t.bootloader.writeEntries([one, two]);
        await t.bootloader.setDefault(entryId(1));
        // The cut write keeps one entry, adds one and removes the default's: every kind of step.
        t.ops.cutAt(cut);
        const done = await t.bootloader.writeEntries([kept(two), three]).then(
          () => true,
          (error: unknown) => {
            if (!t.ops.cut) throw error;
            return false;
          },
        );
        t.ops.disarm();
        const when = done ? 'after the whole write' : `after a write cut at step ${cut}`;
        const state = await t
          .reopen()
          .state()
          .catch((error: unknown) => {
            throw new Error(`${when}, the configuration cannot be read: ${(error as Error).message}`, { cause: error });
          });
        await expectBootable(state, (await t.location()).root, when);
        if (done) {
          expectOwnEntries(state, [two, three], when);
          expect(state.defaultId, `the default ${when}`).toBe(entryId(3));
          return undefined;
        }
        await rm(t.root, { recursive: true, force: true });
      }
      throw new Error(`the write still failed when cut at step ${MAX_CUTS}`);
    }),
};

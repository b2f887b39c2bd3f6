import { rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistencePolicy, PersistenceTrees } from '@imgbased/core';
import { expect } from 'vitest';
import { inWorkDirectory } from '../check.js';
import { snapshotTree } from '../tree-snapshot.js';
import type { PersistenceCheck } from './checks-outcomes.js';
import { type PersistenceUnderTest, persistenceUnderTest } from './subject.js';
import { buildTrees, POLICY, put } from './trees.js';

/** Carries over, the work directory outside the new layer snapshotted around it; resolves to the outcome. */
async function carryWatched(
  t: PersistenceUnderTest,
  work: string,
  target: PersistenceTrees,
  policy: PersistencePolicy,
  what: string,
): Promise<{ refused: boolean }> {
  const before = await snapshotTree(work, [target.newLayer]);
  const refused = await t.persistence.carryOver(target, policy, { dryRun: false }).then(
    () => false,
    () => true,
  );
  expect(await snapshotTree(work, [target.newLayer]), `everything but the new layer, after ${what}`).toEqual(before);
  return { refused };
}

export const nothingOutsideNewLayer: PersistenceCheck = {
  title: 'writes nothing outside the new layer',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const t = await persistenceUnderTest(factory);
      const trees = await buildTrees(work);
      const { refused } = await carryWatched(t, work, await trees.freshTrees(), POLICY, 'a carry-over');
      expect(refused, 'the carry-over was refused').toBe(false);
      return undefined;
    }),
};

export const symlinkAndDotDotAttacks: PersistenceCheck = {
  title: 'writes nothing outside the new layer through links (either layer) or .. in the policy',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const t = await persistenceUnderTest(factory);
      const trees = await buildTrees(work, async ({ oldBase, oldLayer, newBase, outside }) => {
        await put(outside, 'f', 'a victim of a deletion through a link\n');
        for (const tree of [oldBase, oldLayer, newBase]) {
          await put(tree, 'etc/d/f', 'in d\n');
          await put(tree, 'etc/n/keep', 'in n\n');
        }
        // The admin replaced a directory by a link out of the tree, and added links out of it.
        await rm(join(oldLayer, 'etc/d'), { recursive: true });
        await symlink(outside, join(oldLayer, 'etc/d'));
        await symlink('../../outside/target', join(oldLayer, 'etc/out-relative'));
        await symlink('..', join(oldLayer, 'etc/up'));
        await put(oldLayer, 'etc/..dots', 'a name with dots\n');
        await put(oldLayer, 'etc/n/added', 'the admin adds into n\n');
        // The new base replaced a directory the admin added into by a link out of the tree.
        await rm(join(newBase, 'etc/n'), { recursive: true });
        await symlink(outside, join(newBase, 'etc/n'));
        // A persisted path under a link in the new base.
        await put(oldLayer, 'var/lib/x/state', 'the admin’s state\n');
        await symlink(outside, join(newBase, 'var'));
      });
      await carryWatched(t, work, await trees.freshTrees(), POLICY, 'links out of the trees');
      const underLink = { ...POLICY, paths: ['/var/lib/x'] };
      await carryWatched(t, work, await trees.freshTrees(), underLink, 'a path under a link in the new layer');
      const dotDot = { ...POLICY, paths: ['/../../outside', '/etc/../../outside'] };
      const { refused } = await carryWatched(t, work, await trees.freshTrees(), dotDot, 'a policy path with ..');
      expect(refused, 'a policy path with .. is refused').toBe(true);
      return undefined;
    }),
};

const BAD_POLICIES: readonly [string, PersistencePolicy][] = [
  ['a relative path', { ...POLICY, paths: ['etc'] }],
  ['a path with ..', { ...POLICY, paths: ['/etc/../srv/app'] }],
  ['a path leaving the tree', { ...POLICY, paths: ['/../outside'] }],
];

export const badPolicyRefused: PersistenceCheck = {
  title: 'refuses a policy with a relative path or .. before writing anything',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const t = await persistenceUnderTest(factory);
      const trees = await buildTrees(work);
      for (const [what, policy] of BAD_POLICIES) {
        const target = await trees.freshTrees();
        const before = await snapshotTree(work);
        const refused = await t.persistence.carryOver(target, policy, { dryRun: false }).then(
          () => false,
          () => true,
        );
        expect(refused, `a policy with ${what} is refused`).toBe(true);
        expect(await snapshotTree(work), `the trees after a policy with ${what}`).toEqual(before);
      }
      return undefined;
    }),
};

export const dryRunWritesNothing: PersistenceCheck = {
  title: 'writes nothing in a dry run, and reports what it would carry',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const t = await persistenceUnderTest(factory);
      const trees = await buildTrees(work);
      const target = await trees.freshTrees();
      const before = await snapshotTree(work);
      const dryRun = { dryRun: true };
      const report = await t.persistence.carryOver(target, POLICY, dryRun, dryRun);
      expect(await snapshotTree(work), 'the trees after a dry run').toEqual(before);
      expect(report.dryRun, 'report.dryRun').toBe(true);
      expect(report.copied, 'report.copied in a dry run').toContain('/etc/added.conf');
      return undefined;
    }),
};

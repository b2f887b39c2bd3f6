import type { ConflictPolicy, PersistenceReport } from '@imgbased/core';
import { expect } from 'vitest';
import { type ContractCheck, expectCode, inWorkDirectory } from '../check.js';
import { snapshotTree } from '../tree-snapshot.js';
import { expectValidDefinition, type PersistenceContractFactory, persistenceUnderTest } from './subject.js';
import { buildTrees, contentOf, modeOf, POLICY } from './trees.js';

// biome-ignore lint/suspicious/noExplicitAny: a check takes a factory of any plugin, whatever its settings
export type PersistenceCheck = ContractCheck<PersistenceContractFactory<any>>;

const CARRIED = ['/etc/added.conf', '/etc/newdir/nested.conf', '/etc/modified.conf', '/etc/chmod.conf', '/etc/link'];
const NOT_CARRIED = ['/etc/untouched.conf', '/etc/host.key', '/usr/lib/tool'];

export const definitionIsValid: PersistenceCheck = {
  title: 'is a persistence definition for this contract version, named as its plugin',
  run: async (factory) => {
    expectValidDefinition(await persistenceUnderTest(factory));
    return undefined;
  },
};

export const threeWayOutcomes: PersistenceCheck = {
  title: 'carries what the admin added, changed or deleted, keeps what only the new base changed, and nothing else',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const t = await persistenceUnderTest(factory);
      const trees = await buildTrees(work);
      const target = await trees.freshTrees();
      const report = await t.persistence.carryOver(target, POLICY, { dryRun: false });
      const layer = target.newLayer;
      const expectContent = async (path: string, content: string | undefined, why: string) =>
        expect(await contentOf(layer, path), `${path} (${why})`).toBe(content);
      await expectContent('/etc/added.conf', 'added by the admin\n', 'added by the admin');
      await expectContent('/etc/newdir/nested.conf', 'nested, added by the admin\n', 'added by the admin');
      await expectContent('/etc/modified.conf', 'a=2\n', 'changed by the admin');
      expect(await modeOf(layer, '/etc/chmod.conf'), '/etc/chmod.conf (mode changed by the admin)').toBe(0o600);
      await expectContent('/etc/link', '-> untouched.conf', 'a link added by the admin, as a link');
      await expectContent('/srv/app/data.txt', 'data 2\n', 'changed by the admin, under a second path');
      await expectContent('/etc/host.key', 'base key\n', 'excluded: the new base’s');
      await expectContent('/usr/lib/tool', 'tool v2\n', 'outside the paths: the new base’s');
      await expectContent('/etc/untouched.conf', 'the same everywhere\n', 'untouched');
      await expectContent('/etc/added-by-new.conf', 'only in the new base\n', 'added by the new base');
      expect(report.plugin, 'report.plugin').toBe(t.persistence.name);
      expect(report.dryRun, 'report.dryRun').toBe(false);
      expect(report.copied, 'report.copied').toEqual(expect.arrayContaining([...CARRIED, '/srv/app/data.txt']));
      for (const path of NOT_CARRIED) expect(report.copied, `report.copied lists ${path}`).not.toContain(path);
      if (t.carries === 'old-layer-wins') {
        await expectContent('/etc/both.conf', 'admin\n', 'changed by both: the old layer wins');
        return undefined;
      }
      await expectContent('/etc/deleted.conf', undefined, 'deleted by the admin');
      await expectContent('/etc/updated-by-new.conf', 'v2\n', 'changed by the new base only');
      expect(report.deleted, 'report.deleted').toContain('/etc/deleted.conf');
      expect(report.keptFromNewBase, 'report.keptFromNewBase').toContain('/etc/updated-by-new.conf');
      expect(report.copied, 'report.copied lists /etc/updated-by-new.conf').not.toContain('/etc/updated-by-new.conf');
      return undefined;
    }),
};

function conflictOf(report: PersistenceReport) {
  return report.conflicts.find((c) => c.path === '/etc/both.conf');
}

export const conflictsByPolicy: PersistenceCheck = {
  title: 'resolves a file both changed by the policy: keep-admin, take-new-save-admin, fail (nothing written)',
  run: (factory) =>
    inWorkDirectory(async (work) => {
      const t = await persistenceUnderTest(factory);
      if (t.carries === 'old-layer-wins') return { skipped: 'the old layer wins: the plugin has no conflicts' };
      const trees = await buildTrees(work);
      const carry = async (onConflict: ConflictPolicy, rules?: { path: string; onConflict: ConflictPolicy }[]) => {
        const target = await trees.freshTrees();
        const policy = { ...POLICY, onConflict, conflictRules: rules };
        return { target, report: () => t.persistence.carryOver(target, policy, { dryRun: false }) };
      };

      const keep = await carry('keep-admin');
      const kept = await keep.report();
      expect(await contentOf(keep.target.newLayer, '/etc/both.conf'), 'keep-admin: /etc/both.conf').toBe('admin\n');
      expect(conflictOf(kept), 'keep-admin: the conflict reported').toMatchObject({ resolution: 'kept-admin' });

      const take = await carry('take-new-save-admin');
      const taken = await take.report();
      const layer = take.target.newLayer;
      expect(await contentOf(layer, '/etc/both.conf'), 'take-new-save-admin: /etc/both.conf').toBe('new base\n');
      expect(await contentOf(layer, '/etc/both.conf.imgsave'), 'take-new-save-admin: the saved admin version').toBe(
        'admin\n',
      );
      expect(conflictOf(taken), 'take-new-save-admin: the conflict reported').toMatchObject({
        resolution: 'took-new-saved-admin',
        savedAs: '/etc/both.conf.imgsave',
      });

      const fail = await carry('fail');
      const before = await snapshotTree(fail.target.newLayer);
      await expectCode(fail.report(), 'E_PERSISTENCE_CONFLICT', 'a conflict under fail');
      expect(await snapshotTree(fail.target.newLayer), 'the new layer after a conflict under fail').toEqual(before);

      const ruled = await carry('fail', [{ path: '/etc', onConflict: 'keep-admin' }]);
      await ruled.report();
      expect(await contentOf(ruled.target.newLayer, '/etc/both.conf'), 'a rule for /etc over the default fail').toBe(
        'admin\n',
      );
      return undefined;
    }),
};

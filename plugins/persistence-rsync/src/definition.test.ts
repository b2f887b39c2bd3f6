import { PLUGIN_CONTRACT_VERSIONS } from '@imgbased/core';
import { ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import rsync, { RsyncPersistence, rsyncPlugin } from './index.js';

const validate = (value: unknown) => rsyncPlugin.settings!['~standard'].validate(value);

describe('rsync plugin definition', () => {
  it('is the default export: a persistence plugin of the current contract', () => {
    expect(rsync).toBe(rsyncPlugin);
    expect(rsync).toMatchObject({
      kind: 'persistence',
      name: 'rsync',
      contractVersion: PLUGIN_CONTRACT_VERSIONS.persistence,
    });
  });

  it('reads [persistence.rsync] from INI strings, with defaults, and refuses bad paths and keys', async () => {
    expect(await validate({})).toEqual({ value: { paths: ['/etc', '/root'], excludes: [] } });
    expect(await validate({ paths: '/etc,/srv', excludes: '/etc/ssh/*_key /etc/x' })).toEqual({
      value: { paths: ['/etc', '/srv'], excludes: ['/etc/ssh/*_key', '/etc/x'] },
    });
    for (const bad of [{ paths: 'etc' }, { excludes: '/a/../b' }, { delta_dir: '/x' }]) {
      const result = await validate(bad);
      expect(JSON.stringify(result.issues ?? []), JSON.stringify(bad)).toContain(Object.keys(bad)[0]!);
    }
  });

  it('creates the carrier and the policy its settings give', () => {
    const made = rsyncPlugin.create({ runner: new ScriptedRunner(), settings: { paths: ['/etc'], excludes: [] } });
    expect(made.persistence).toBeInstanceOf(RsyncPersistence);
    expect(made.policy).toEqual({ paths: ['/etc'], excludes: [] });
  });
});

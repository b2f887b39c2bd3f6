import { PLUGIN_CONTRACT_VERSIONS } from '@imgbased/core';
import { ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import tarDiff, { DEFAULT_DELTA_DIRECTORY, TarDiffPersistence, tarDiffPlugin } from './index.js';

const validate = (value: unknown) => tarDiffPlugin.settings!['~standard'].validate(value);

describe('tar-diff plugin definition', () => {
  it('is the default export: a persistence plugin of the current contract', () => {
    expect(tarDiff).toBe(tarDiffPlugin);
    expect(tarDiff).toMatchObject({
      kind: 'persistence',
      name: 'tar-diff',
      contractVersion: PLUGIN_CONTRACT_VERSIONS.persistence,
    });
  });

  it('reads [persistence.tar-diff] from INI strings, with defaults', async () => {
    expect(await validate({})).toEqual({
      value: { paths: ['/etc', '/root'], excludes: [], delta_dir: DEFAULT_DELTA_DIRECTORY },
    });
    expect(
      await validate({ paths: '/etc, /var/lib/x  /root', excludes: '/etc/ssh/*_key', delta_dir: '/var/d' }),
    ).toEqual({ value: { paths: ['/etc', '/var/lib/x', '/root'], excludes: ['/etc/ssh/*_key'], delta_dir: '/var/d' } });
  });

  it('refuses relative paths, `..`, and unknown keys, naming the key', async () => {
    for (const bad of [
      { paths: 'etc' },
      { paths: '/etc/../boot' },
      { excludes: 'x' },
      { delta_dir: 'd' },
      { path: '/etc' },
    ]) {
      const result = await validate(bad);
      expect(result.issues?.length, JSON.stringify(bad)).toBeGreaterThan(0);
      expect(JSON.stringify(result.issues)).toContain(Object.keys(bad)[0]!);
    }
  });

  it('creates the carrier and the policy its settings give', async () => {
    const settings = { paths: ['/etc'], excludes: ['/etc/x'], delta_dir: '/var/d' };
    const made = tarDiffPlugin.create({ runner: new ScriptedRunner(), settings });
    expect(made.persistence).toBeInstanceOf(TarDiffPersistence);
    expect(made.policy).toEqual({ paths: ['/etc'], excludes: ['/etc/x'] });
  });
});

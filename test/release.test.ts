// Releases: one version for everything that is released, so that `imgbase --version` and `imgbased
// --version` (each its own package.json's) agree, and nothing published to npm by accident.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(readFileSync(path.join(root, '.changeset/config.json'), 'utf8')) as {
  fixed: string[][];
  ignore: string[];
  access: string;
};

function workspacePackages(): { name: string; version: string }[] {
  const dirs = ['packages', 'plugins', 'apps'].flatMap((group) =>
    readdirSync(path.join(root, group)).map((name) => path.join(root, group, name)),
  );
  return [...dirs, path.join(root, 'test-e2e'), path.join(root, 'bench')]
    .filter((dir) => statSync(dir).isDirectory())
    .flatMap((dir) => {
      try {
        return [JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))];
      } catch {
        return [];
      }
    });
}

describe('releases', () => {
  it('version every released workspace package in one fixed changesets group', () => {
    const released = workspacePackages()
      .map((p) => p.name)
      .filter((name) => !config.ignore.includes(name));
    expect(config.fixed).toHaveLength(1);
    expect([...config.fixed[0]!].sort()).toEqual(released.sort());
  });

  it('give the CLI and the daemon the same version now', () => {
    const versions = new Map(workspacePackages().map((p) => [p.name, p.version]));
    expect(versions.get('@imgbased/daemon')).toBe(versions.get('@imgbased/cli'));
  });

  it('publish nothing publicly to npm (packaging/README.md, "Versions, releases and npm")', () => {
    expect(config.access).toBe('restricted');
    expect(readFileSync(path.join(root, 'scripts/release'), 'utf8')).not.toMatch(/changeset publish|npm publish/);
  });
});

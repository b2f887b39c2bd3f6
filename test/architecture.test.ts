// The monorepo's rules, checked on every run: each package has a public surface of its own, plugins
// stand apart, containers are built only in apps, and DI tokens are unique.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@imgbased/core';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function workspaces(group: string): string[] {
  const dir = path.join(root, group);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((p) => statSync(p).isDirectory() && readdirSync(p).includes('package.json'));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f));
}

const libraries = [...workspaces('packages'), ...workspaces('plugins')];
const apps = workspaces('apps');
const manifest = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));

describe('the monorepo', () => {
  it.each([...libraries, ...apps].map((d) => [path.relative(root, d), d]))(
    '%s has an exports map and src/index.ts',
    (_name, dir) => {
      const pkg = manifest(dir);
      expect(pkg.exports['.']).toBeDefined();
      expect(pkg.exports['./package.json']).toBe('./package.json');
      expect(statSync(path.join(dir, 'src/index.ts')).isFile()).toBe(true);
    },
  );

  // Only the composition root (packages/composition) builds the container: composition.architecture.test.ts.
  it('resolves from DI containers only in the composition root and apps', () => {
    for (const dir of libraries.filter((d) => !d.endsWith(`${path.sep}composition`))) {
      for (const file of sourceFiles(path.join(dir, 'src'))) {
        const text = readFileSync(file, 'utf8');
        expect(text, path.relative(root, file)).not.toMatch(/container\.(resolve|register)|createChildContainer/);
      }
    }
  });

  it('never imports another package by a deep path', () => {
    for (const dir of [...libraries, ...apps]) {
      for (const file of sourceFiles(path.join(dir, 'src'))) {
        const text = readFileSync(file, 'utf8');
        expect(text, path.relative(root, file)).not.toMatch(/from '@imgbased\/[^'/]+\/(src|dist)\//);
      }
    }
  });

  it('keeps plugins apart: core as a peer, no plugin importing another', () => {
    for (const dir of workspaces('plugins')) {
      const pkg = manifest(dir);
      expect(pkg.peerDependencies?.['@imgbased/core'], pkg.name).toBeDefined();
      const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies });
      expect(
        deps.filter((d) => d.startsWith('@imgbased/plugin') || d.includes('bootloader-') || d.includes('persistence-')),
      ).toEqual([]);
    }
  });

  it('keeps every file of the engine at 300 lines or fewer', () => {
    const engine = path.join(root, 'packages/core/src/engine');
    const files = readdirSync(engine, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const lines = readFileSync(path.join(engine, file), 'utf8').trimEnd().split('\n').length;
      expect(lines, `packages/core/src/engine/${file}`).toBeLessThanOrEqual(300);
    }
  });

  it('runs no system command in core: no runner call, no child_process, no execa (test doubles aside)', () => {
    const src = path.join(root, 'packages/core/src');
    const files = sourceFiles(src).filter((f) => !path.relative(src, f).startsWith(`testing${path.sep}`));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const where = path.relative(root, file);
      expect(text, where).not.toMatch(/\b\w*[rR]unner\??\.run\(|\.run\(\s*\{/);
      expect(text, where).not.toMatch(/(from|import)\s*\(?\s*['"]((node:)?child_process|execa)['"]/);
    }
  });

  it('gives every DI token its own id', () => {
    const tokens = Object.values(core).filter((v): v is symbol => typeof v === 'symbol');
    expect(tokens.length).toBeGreaterThanOrEqual(7);
    const ids = tokens.map((t) => t.description);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^imgbased\./);
  });
});

// The plugin shape's rules: one composition root builds the container, apps only call it, and a plugin
// is one module object that ships by one line. Each rule is a function over file text, shown able to
// fail on a sample that breaks it, then held against the tree.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMPOSITION = path.join(root, 'packages/composition');

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !/\.test\.[mc]?[jt]s$/.test(f) && !f.includes('node_modules'))
    .map((f) => path.join(dir, f));
}

function workspaces(group: string): string[] {
  const dir = path.join(root, group);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((p) => statSync(p).isDirectory() && existsSync(path.join(p, 'package.json')));
}

/** Registering an implementation with a DI container (tsyringe), or making one. */
function registersImplementations(text: string): boolean {
  return /\b(createChildContainer|registerSingleton|registerInstance|registerType)\s*\(|\.register(<[^>]*>)?\s*\([^)]*\{\s*use(Class|Value|Factory|Token)\b/s.test(
    text,
  );
}

/** Importing an adapter or plugin package directly, instead of going through the composition root. */
function importsImplementations(text: string): string[] {
  const found = text.matchAll(/from '(@imgbased\/(?:lvm-thin|fs-ext4|bootloader-[^']+|persistence-[^']+))'/g);
  return [...found].map((m) => m[1]!);
}

describe('rule: only the composition root registers implementations', () => {
  it('catches a registration', () => {
    expect(registersImplementations('c.register(VolumeManager, { useClass: LvmThinVolumeManager })')).toBe(true);
    expect(registersImplementations('const c = rootContainer.createChildContainer();')).toBe(true);
    expect(registersImplementations('container.register<Bootloader>(Bootloader, { useValue: b })')).toBe(true);
    expect(registersImplementations('const engine = container.resolve(ImageEngine);')).toBe(false);
  });

  it('holds for every package, plugin and app but packages/composition', () => {
    const places = [...workspaces('packages'), ...workspaces('plugins'), ...workspaces('apps')].filter(
      (dir) => dir !== COMPOSITION,
    );
    expect(places.length).toBeGreaterThan(5);
    const offenders = places.flatMap((dir) =>
      sourceFiles(path.join(dir, 'src'))
        .filter((file) => !file.includes(`${path.sep}testing${path.sep}`))
        .filter((file) => registersImplementations(readFileSync(file, 'utf8')))
        .map((file) => path.relative(root, file)),
    );
    expect(offenders).toEqual([]);
  });
});

describe('rule: apps reach adapters and plugins only through the composition root', () => {
  it('catches a direct import', () => {
    expect(importsImplementations("import { LvmThinVolumeManager } from '@imgbased/lvm-thin';")).toEqual([
      '@imgbased/lvm-thin',
    ]);
    expect(importsImplementations("import x from '@imgbased/bootloader-grub-bls';")).toEqual([
      '@imgbased/bootloader-grub-bls',
    ]);
    expect(importsImplementations("import { buildContainer } from '@imgbased/composition';")).toEqual([]);
  });

  it('holds for every app', () => {
    const apps = workspaces('apps');
    expect(apps.length).toBeGreaterThanOrEqual(2);
    for (const dir of apps) {
      for (const file of sourceFiles(path.join(dir, 'src'))) {
        expect(importsImplementations(readFileSync(file, 'utf8')), path.relative(root, file)).toEqual([]);
      }
      const deps = Object.keys(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies ?? {});
      expect(
        deps.filter((d) => importsImplementations(`from '${d}'`).length > 0),
        dir,
      ).toEqual([]);
    }
  });
});

describe('rule: a plugin ships by one line', () => {
  /** Plugin packages named in the shipped list, one per line. */
  function shippedImports(text: string): string[] {
    return [...text.matchAll(/^import \w+ from '(@imgbased\/(?:bootloader|persistence)-[^']+)';$/gm)].map((m) => m[1]!);
  }

  it('catches a plugin package that is not in the list', () => {
    const list = "import a from '@imgbased/bootloader-a';\n";
    expect(shippedImports(list)).toEqual(['@imgbased/bootloader-a']);
    expect(shippedImports(list)).not.toContain('@imgbased/bootloader-b');
  });

  it('lists every plugin package of the repository, each once', () => {
    const list = readFileSync(path.join(COMPOSITION, 'src/shipped-plugins.ts'), 'utf8');
    const plugins = workspaces('plugins').map(
      (dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name,
    );
    expect(shippedImports(list).sort()).toEqual([...plugins].sort());
  });
});

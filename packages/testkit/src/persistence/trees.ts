import { chmod, lstat, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PersistencePolicy, PersistenceTrees } from '@imgbased/core';
import { runner } from './subject.js';

/**
 * The suite's trees, plain directories in one work directory:
 *   old-base/  old-layer/ (the old base and the admin's changes)  new-base/ (the old base and the new
 *   base's changes)  outside/ (what attacks aim at)  new-layers/layer-N/ (a fresh copy of new-base each
 *   time). Only `new-layers/layer-N` may change when a plugin carries over.
 */
export interface ContractTrees {
  readonly work: string;
  readonly oldBase: string;
  readonly oldLayer: string;
  readonly newBase: string;
  readonly outside: string;
  /** A new layer: an exact copy (cp -a) of the new base, as a thin snapshot would be. */
  freshTrees(): Promise<PersistenceTrees>;
}

/** Paths carried: two roots; excluded: keys in /etc; /usr is outside the paths. */
export const POLICY: PersistencePolicy = {
  paths: ['/etc', '/srv/app'],
  excludes: ['/etc/*.key'],
  onConflict: 'keep-admin',
};

const OLD_BASE: Record<string, string> = {
  'etc/untouched.conf': 'the same everywhere\n',
  'etc/modified.conf': 'a=1\n',
  'etc/deleted.conf': 'deleted by the admin\n',
  'etc/chmod.conf': 'mode changed by the admin\n',
  'etc/updated-by-new.conf': 'v1\n',
  'etc/both.conf': 'base\n',
  'etc/host.key': 'base key\n',
  'etc/sub/deep.conf': 'deep\n',
  'srv/app/data.txt': 'data 1\n',
  'usr/lib/tool': 'tool v1\n',
};

export async function put(root: string, path: string, content: string, mode = 0o644): Promise<void> {
  const target = join(root, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content);
  await chmod(target, mode);
}

async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await runner.run({ argv: ['cp', '-a', '--', from, to], mutates: true });
}

/** Every kind of change an admin makes, and what a new base changes. */
async function adminChanges(root: string): Promise<void> {
  await put(root, 'etc/added.conf', 'added by the admin\n');
  await put(root, 'etc/newdir/nested.conf', 'nested, added by the admin\n');
  await put(root, 'etc/modified.conf', 'a=2\n');
  await rm(join(root, 'etc/deleted.conf'));
  await chmod(join(root, 'etc/chmod.conf'), 0o600);
  await put(root, 'etc/both.conf', 'admin\n');
  await put(root, 'etc/host.key', 'admin key\n', 0o600);
  await put(root, 'srv/app/data.txt', 'data 2\n');
  await put(root, 'usr/lib/tool', 'tool patched by the admin\n');
  await symlink('untouched.conf', join(root, 'etc/link'));
}
async function newBaseChanges(root: string): Promise<void> {
  await put(root, 'etc/updated-by-new.conf', 'v2\n');
  await put(root, 'etc/both.conf', 'new base\n');
  await put(root, 'etc/added-by-new.conf', 'only in the new base\n');
  await put(root, 'usr/lib/tool', 'tool v2\n');
}

/** Builds the trees in `work`; `extra` adds to them (attacks) before the new layers are copied. */
export async function buildTrees(
  work: string,
  extra?: (trees: Omit<ContractTrees, 'freshTrees'>) => Promise<void>,
): Promise<ContractTrees> {
  const dirs = {
    work,
    oldBase: join(work, 'old-base'),
    oldLayer: join(work, 'old-layer'),
    newBase: join(work, 'new-base'),
    outside: join(work, 'outside'),
  };
  for (const [path, content] of Object.entries(OLD_BASE)) await put(dirs.oldBase, path, content);
  await copyTree(dirs.oldBase, dirs.oldLayer);
  await copyTree(dirs.oldBase, dirs.newBase);
  await adminChanges(dirs.oldLayer);
  await newBaseChanges(dirs.newBase);
  await put(dirs.outside, 'target', 'outside the trees\n');
  await extra?.(dirs);
  let layers = 0;
  return {
    ...dirs,
    async freshTrees() {
      const newLayer = join(work, 'new-layers', `layer-${++layers}`);
      await copyTree(dirs.newBase, newLayer);
      return { oldBase: dirs.oldBase, oldLayer: dirs.oldLayer, newLayer };
    },
  };
}

/** A path in a tree: a file's text, `-> target` for a link, `dir` for a directory, undefined when absent. */
export async function contentOf(tree: string, path: string): Promise<string | undefined> {
  const full = join(tree, path);
  const stat = await lstat(full).catch(() => undefined);
  if (stat === undefined) return undefined;
  if (stat.isSymbolicLink()) return `-> ${await readlink(full)}`;
  if (stat.isDirectory()) return 'dir';
  return readFile(full, 'utf8');
}

/** A path's permission bits, undefined when absent. */
export async function modeOf(tree: string, path: string): Promise<number | undefined> {
  const stat = await lstat(join(tree, path)).catch(() => undefined);
  return stat === undefined ? undefined : stat.mode & 0o7777;
}

// The trees of an update, on real ext4 loop devices (needs root), shared by the persistence plugins'
// integration tests: the old base, the admin's layer of it, and new layers cloned from a new base.
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { adminChanges, buildOldBase, newBaseChanges, put, Scratch, tool } from './persistence-fixture.js';

export interface UpdateTrees {
  readonly scratch: Scratch;
  /** The old base, mounted. */
  readonly oldBase: string;
  /** A block copy of the old base with `adminChanges`, mounted. */
  readonly oldLayer: string;
  /** A new layer: a fresh block copy of the new base (old base plus `newBaseChanges`), mounted. */
  freshNewLayer(): Promise<string>;
}

export async function buildUpdateTrees(): Promise<UpdateTrees> {
  const scratch = await Scratch.create();
  const baseImage = await scratch.image('old-base');
  const dir = await scratch.mount(baseImage);
  await buildOldBase(dir);
  await scratch.umount(dir);
  const newBaseImage = await scratch.clone(baseImage, 'new-base');
  const newBase = await scratch.mount(newBaseImage);
  await newBaseChanges(newBase);
  await scratch.umount(newBase);
  const oldLayer = await scratch.mount(await scratch.clone(baseImage, 'old-layer'));
  await adminChanges(oldLayer);
  const oldBase = await scratch.mount(baseImage);
  let layers = 0;
  return {
    scratch,
    oldBase,
    oldLayer,
    freshNewLayer: async () => scratch.mount(await scratch.clone(newBaseImage, `new-layer-${++layers}`)),
  };
}

export interface LinkAttackTrees {
  /** The file system holding the four trees below, for a before/after `describeTree(fs, ['outside'])`. */
  readonly fs: string;
  readonly oldBase: string;
  readonly oldLayer: string;
  readonly newLayer: string;
  /** A tree beside the three that no carry-over may write into. */
  readonly outside: string;
}

/**
 * Three trees on a new file system where the admin left links out of the tree (absolute, by `..`, a
 * directory and /root swapped for links), names with dots, and a file added into a directory that the
 * new base swapped for a link out of the tree.
 */
export async function buildLinkAttack(scratch: Scratch): Promise<LinkAttackTrees> {
  const fs = await scratch.mount(await scratch.image('attack', 32 * 1024 * 1024));
  const [oldBase, oldLayer, newLayer, outside] = ['base', 'layer', 'new', 'outside'].map((d) => join(fs, d)) as [
    string,
    string,
    string,
    string,
  ];
  await put(outside, 'target', 'original\n');
  for (const tree of [oldBase, oldLayer, newLayer]) {
    await put(tree, 'etc/d/f', 'in d\n');
    await put(tree, 'etc/n/keep', 'in n\n');
    await put(tree, 'root/.profile', 'p\n');
  }
  await symlink(outside, join(oldLayer, 'etc/out-abs'));
  await symlink('../../outside/target', join(oldLayer, 'etc/out-rel'));
  await symlink('..', join(oldLayer, 'etc/up'));
  await put(oldLayer, 'etc/..evil', 'dots\n');
  await tool(['rm', '-r', join(oldLayer, 'etc/d')]);
  await symlink(outside, join(oldLayer, 'etc/d'));
  await put(oldLayer, 'etc/n/added', 'admin adds into n\n');
  await tool(['rm', '-r', join(oldLayer, 'root')]);
  await symlink(outside, join(oldLayer, 'root'));
  await tool(['rm', '-r', join(newLayer, 'etc/n')]);
  await symlink(outside, join(newLayer, 'etc/n'));
  return { fs, oldBase, oldLayer, newLayer, outside };
}

// imgbase layer --mount/--umount/--diff on the in-memory host.
import { describe, expect, it } from 'vitest';
import type { TreeEntry } from '../../contracts/host-admin.js';
import { adminHost, runFromLayer } from '../../testing/index.js';
import { compareTrees } from './tree-compare.js';

const entry = (path: string, more: Partial<TreeEntry> = {}): TreeEntry => ({
  path,
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 3,
  mtimeMs: 1,
  ...more,
});

describe('imgbase layer --mount and --umount', () => {
  it('mounts a layer read-only (default directory), a base after activating it, and unmounts both', async () => {
    const h = await adminHost();
    const mounted = await h.engine().mountLayer({ name: 'Base-1-0+1', readWrite: false });
    expect(mounted).toMatchObject({ directories: ['/run/imgbased/layers/Base-1-0+1'], readOnly: true });
    await h.engine().mountLayer({ name: 'Base-1-0', directory: '/mnt/base', readWrite: false });
    expect(h.volumes.find('Base-1-0')!.active).toBe(true);
    expect(h.mounts.entries.map((m) => [m.target, m.source, m.options[0]])).toEqual([
      ['/run/imgbased/layers/Base-1-0+1', '/dev/onn/Base-1-0+1', 'ro'],
      ['/mnt/base', '/dev/onn/Base-1-0', 'ro'],
    ]);
    expect((await h.engine().unmountLayer('Base-1-0')).directories).toEqual(['/mnt/base']);
    expect(h.volumes.find('Base-1-0')!.active).toBe(false);
    await h.engine().unmountLayer('Base-1-0+1');
    expect(h.mounts.entries).toEqual([]);
    expect(h.lock.purposes).toEqual(['layer --mount', 'layer --mount', 'layer --umount', 'layer --umount']);
  });

  it('bind-mounts the running layer; refuses --rw of a base or the running layer, a busy DIR, an unmounted --umount', async () => {
    const h = await adminHost();
    runFromLayer(h, 'Base-1-0+2');
    await h.engine().mountLayer({ name: 'Base-1-0+1', directory: '/mnt/a', readWrite: true });
    const before = h.snapshot();
    for (const [request, code] of [
      [{ name: 'Base-1-0', readWrite: true }, 'E_MOUNT_REFUSED'],
      [{ name: 'Base-1-0+2', readWrite: true }, 'E_MOUNT_REFUSED'],
      [{ name: 'Base-1-0+2', directory: '/mnt/a', readWrite: false }, 'E_MOUNT_REFUSED'],
      [{ name: 'Base-1-0+9', readWrite: false }, 'E_LAYER_NOT_FOUND'],
    ] as const) {
      await expect(h.engine().mountLayer(request), JSON.stringify(request)).rejects.toMatchObject({ code });
    }
    await expect(h.engine().unmountLayer('Base-1-0')).rejects.toMatchObject({ code: 'E_NOT_MOUNTED' });
    expect(h.snapshot()).toBe(before);
    await h.engine().mountLayer({ name: 'Base-1-0+2', directory: '/mnt/b', readWrite: false });
    expect(h.mounts.log.at(-1)).toBe('mount / /mnt/b ro');
  });
});

describe('imgbase layer --diff', () => {
  it('compares type, content, mode, owner, xattrs and link target; a quick check skips untouched files', () => {
    const a = [
      entry('/a'),
      entry('/same'),
      entry('/touched', { mtimeMs: 1 }),
      entry('/l', { type: 'symlink', target: 'x' }),
      entry('/m'),
      entry('/gone'),
      entry('/x', { xattrs: { 'user.a': '01' } }),
    ];
    const b = [
      entry('/a', { size: 4, uid: 5 }),
      entry('/same'),
      entry('/touched', { mtimeMs: 2 }),
      entry('/l', { type: 'symlink', target: 'y' }),
      entry('/m', { type: 'directory' }),
      entry('/new'),
      entry('/x', { xattrs: {} }),
    ];
    expect(compareTrees(a, b)).toEqual({
      added: ['/new'],
      removed: ['/gone'],
      changed: [
        { path: '/a', changes: ['content', 'owner'] },
        { path: '/l', changes: ['link-target'] },
        { path: '/m', changes: ['type'] },
        { path: '/x', changes: ['xattrs'] },
      ],
      toCompare: ['/touched'],
    });
  });

  it('mounts both read-only (a base activated for the while), compares bytes where times differ, adds text diffs', async () => {
    const h = await adminHost();
    const [dirA, dirB] = ['/mnt/dev/onn/Base-1-0', '/mnt/dev/onn/Base-1-0+1'];
    h.trees.trees[dirA] = [entry('/etc/hosts'), entry('/etc/motd'), entry('/old')];
    h.trees.trees[dirB] = [entry('/etc/hosts', { mtimeMs: 9 }), entry('/etc/motd', { mtimeMs: 9 }), entry('/new')];
    Object.assign(h.trees.contents, {
      [`${dirA}/etc/hosts`]: 'abc',
      [`${dirB}/etc/hosts`]: 'abd',
      [`${dirA}/etc/motd`]: 'hi!',
      [`${dirB}/etc/motd`]: 'hi!',
    });
    const diff = await h.engine().diffLayers({ name: 'Base-1-0+1', with: 'Base-1-0', content: true });
    expect(diff).toEqual({
      a: 'Base-1-0+1',
      b: 'Base-1-0',
      added: ['/old'],
      removed: ['/new'],
      changed: [
        {
          path: '/etc/hosts',
          changes: ['content'],
          diff: '--- Base-1-0+1/etc/hosts\n+++ Base-1-0/etc/hosts\n-abd\n+abc\n',
        },
      ],
    });
    expect(h.filesystem.mounts).toEqual([
      { device: '/dev/onn/Base-1-0+1', readOnly: true },
      { device: '/dev/onn/Base-1-0', readOnly: true },
    ]);
    expect(h.volumes.find('Base-1-0')!.active).toBe(false);
    expect((await h.engine().diffLayers({ name: 'Base-1-0+1' })).b).toBe('Base-1-0');
    await expect(h.engine().diffLayers({ name: 'Base-1-0' })).rejects.toMatchObject({ code: 'E_USAGE' });
    expect(h.lock.purposes).toEqual([]);
  });
});

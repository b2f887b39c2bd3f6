import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistencePolicy } from '@imgbased/core';
import {
  adminChanges,
  buildOldBase,
  describeTree,
  newBaseChanges,
  put,
  runner,
  Scratch,
  tool,
} from '@imgbased/system/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RsyncPersistence } from '../src/index.js';

// The real rsync on real ext4 file systems on loop devices: needs root.
const plugin = new RsyncPersistence(runner);
const ROOTS = ['etc', 'root'];
const ACCOUNTS = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'];
const policy: PersistencePolicy = { paths: ['/etc', '/root'], excludes: ['/etc/ssh/*_key'], onConflict: 'keep-admin' };

let scratch: Scratch;
let oldBase: string;
let oldLayer: string;
let newBaseImage: string;
let layers = 0;

async function freshNewLayer(): Promise<string> {
  return scratch.mount(await scratch.clone(newBaseImage, `new-layer-${++layers}`));
}

beforeAll(async () => {
  scratch = await Scratch.create();
  const baseImage = await scratch.image('old-base');
  const dir = await scratch.mount(baseImage);
  await buildOldBase(dir);
  await scratch.umount(dir);
  newBaseImage = await scratch.clone(baseImage, 'new-base');
  const nb = await scratch.mount(newBaseImage);
  await newBaseChanges(nb);
  await scratch.umount(nb);
  oldLayer = await scratch.mount(await scratch.clone(baseImage, 'old-layer'));
  await adminChanges(oldLayer);
  oldBase = await scratch.mount(baseImage);
});
afterAll(async () => {
  await scratch?.remove();
});

describe('RsyncPersistence on ext4 loop devices', () => {
  it('copies the paths exactly from the old layer, merges accounts by name, leaves excludes and the rest alone', async () => {
    const newLayer = await freshNewLayer();
    const before = await describeTree(newLayer, [...ROOTS, 'usr']);
    const report = await plugin.carryOver({ oldBase, oldLayer, newLayer }, policy, { dryRun: false });

    const layer = await describeTree(oldLayer, ROOTS);
    const after = await describeTree(newLayer, [...ROOTS, 'usr']);
    const expected = new Map(before);
    for (const [p, d] of layer) if (!ACCOUNTS.includes(p) && p !== '/etc/ssh/ssh_host_key') expected.set(p, d);
    const compared = (m: Map<string, string>) => new Map([...m].filter(([p]) => !ACCOUNTS.includes(p)));
    // Directory modes, owners and xattrs too; hard links, SUID/SGID, ACLs, SELinux labels.
    expect(compared(after)).toEqual(compared(expected));
    expect(after.get('/root/bin/suid')).toMatch(/^f 4755 0:0 /);
    expect(after.get('/root/bin/sgid')).toMatch(/^f 2750 1000:1000 /);
    expect(after.get('/etc/hl-b')).toContain('=/etc/hl-a');
    expect(after.get('/etc/acl.conf')).toContain('security.selinux=0x');
    expect((await lstat(join(newLayer, 'root/sparse.img'))).blocks * 512).toBeLessThan(1024 * 1024);
    expect(after.get('/etc/ssh/ssh_host_key')).toBe(before.get('/etc/ssh/ssh_host_key'));
    // Simple and predictable: the admin's deletion is not carried, an untouched file goes back to the old layer's.
    expect(after.has('/etc/todelete.conf')).toBe(true);
    expect(await readFile(join(newLayer, 'etc/updated-by-new.conf'), 'utf8')).toBe('v1\n');

    expect(await readFile(join(newLayer, 'etc/passwd'), 'utf8')).toBe(
      'root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\nchrony:x:990:990::/var/lib/chrony:/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n',
    );
    expect(await readFile(join(newLayer, 'etc/gshadow'), 'utf8')).toBe(
      'root:::\nbin:::\nwheel:::root,alice\nchrony:!::\nalice:!::\n',
    );
    expect(report).toMatchObject({
      plugin: 'rsync',
      dryRun: false,
      merged: [...ACCOUNTS].sort(),
      deleted: [],
      conflicts: [],
    });
    expect(report.copied).toEqual(
      expect.arrayContaining([
        '/etc/new.conf',
        '/etc/chmod.conf',
        '/etc/xattr.conf',
        '/etc/localtime',
        '/etc/hl-b',
        '/root/bin/suid',
      ]),
    );
    expect(report.copied).not.toContain('/etc/ssh/ssh_host_key');
    expect(report.copied).not.toContain('/etc/passwd');
  });

  it('only reports in a dry run', async () => {
    const newLayer = await freshNewLayer();
    const before = await describeTree(newLayer, ROOTS);
    const report = await plugin.carryOver({ oldBase, oldLayer, newLayer }, policy, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.copied).toContain('/etc/new.conf');
    expect(report.merged).toEqual([...ACCOUNTS].sort());
    expect(await describeTree(newLayer, ROOTS)).toEqual(before);
  });

  it('fails on an account conflict under fail, writing nothing; reports it under take-new-save-admin', async () => {
    const newLayer = await freshNewLayer();
    await put(
      newLayer,
      'etc/shadow',
      (await readFile(join(newLayer, 'etc/shadow'), 'utf8')).replace('$6$base', '$6$new'),
      { mode: 0 },
    );
    const before = await describeTree(newLayer, ROOTS);
    await expect(
      plugin.carryOver({ oldBase, oldLayer, newLayer }, { ...policy, onConflict: 'fail' }, { dryRun: false }),
    ).rejects.toMatchObject({ code: 'E_PERSISTENCE_CONFLICT' });
    expect(await describeTree(newLayer, ROOTS)).toEqual(before);

    const report = await plugin.carryOver(
      { oldBase, oldLayer, newLayer },
      { ...policy, onConflict: 'take-new-save-admin' },
      { dryRun: false },
    );
    expect(report.conflicts).toEqual([
      {
        path: '/etc/shadow',
        reason: "shadow entry 'root': hash changed by the admin and by the new base",
        resolution: 'took-new-saved-admin',
        savedAs: '/etc/shadow.imgsave',
      },
    ]);
    expect(await readFile(join(newLayer, 'etc/shadow'), 'utf8')).toContain('root:$6$new:');
    expect(await readFile(join(newLayer, 'etc/shadow.imgsave'), 'utf8')).toContain('root:$6$admin:');
    expect((await lstat(join(newLayer, 'etc/shadow.imgsave'))).mode & 0o777).toBe(0o600);
  });

  it('never writes outside the target: links out of the tree, .. names, a link swapped for a directory', async () => {
    const fs = await scratch.mount(await scratch.image('attack', 32 * 1024 * 1024));
    const [b, a, n, outside] = ['base', 'layer', 'new', 'outside'].map((d) => join(fs, d)) as [
      string,
      string,
      string,
      string,
    ];
    await put(outside, 'target', 'original\n');
    for (const t of [b, a, n]) {
      await put(t, 'etc/d/f', 'in d\n');
      await put(t, 'etc/n/keep', 'in n\n');
      await put(t, 'root/.profile', 'p\n');
    }
    await symlink(outside, join(a, 'etc/out-abs'));
    await symlink('../../outside/target', join(a, 'etc/out-rel'));
    await symlink('..', join(a, 'etc/up'));
    await put(a, 'etc/..evil', 'dots\n');
    await tool(['rm', '-r', join(a, 'etc/d')]);
    await symlink(outside, join(a, 'etc/d'));
    await put(a, 'etc/n/added', 'admin adds into n\n');
    await tool(['rm', '-r', join(a, 'root')]);
    await symlink(outside, join(a, 'root'));
    await tool(['rm', '-r', join(n, 'etc/n')]);
    await symlink(outside, join(n, 'etc/n'));
    const outsideBefore = await describeTree(fs, ['outside']);

    await plugin.carryOver(
      { oldBase: b, oldLayer: a, newLayer: n },
      { paths: ['/etc', '/root'], excludes: [], onConflict: 'keep-admin' },
      { dryRun: false },
    );
    expect(await describeTree(fs, ['outside'])).toEqual(outsideBefore);
    expect((await lstat(join(n, 'etc/d'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(n, 'root'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(n, 'etc/out-rel'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(n, 'etc/n'))).isDirectory()).toBe(true);
    expect(await readFile(join(n, 'etc/n/added'), 'utf8')).toBe('admin adds into n\n');

    // A persisted path whose parent is a symlink in the new layer is refused before anything is written.
    await mkdir(join(a, 'var/lib/x'), { recursive: true });
    await symlink(outside, join(n, 'var'));
    await expect(
      plugin.carryOver(
        { oldBase: b, oldLayer: a, newLayer: n },
        { paths: ['/var/lib/x'], excludes: [], onConflict: 'keep-admin' },
        { dryRun: false },
      ),
    ).rejects.toMatchObject({ code: 'E_UNSAFE_PATH' });
    await writeFile(join(fs, 'marker'), '');
    expect(await describeTree(fs, ['outside'])).toEqual(outsideBefore);
  });
});

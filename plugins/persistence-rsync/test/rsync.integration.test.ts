import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistencePolicy } from '@imgbased/core';
import {
  buildLinkAttack,
  buildUpdateTrees,
  describeTree,
  put,
  runner,
  type Scratch,
  tool,
  type UpdateTrees,
} from '@imgbased/system/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RsyncPersistence } from '../src/index.js';

// The real rsync on real ext4 file systems on loop devices: needs root.
const plugin = new RsyncPersistence(runner);
const ROOTS = ['etc', 'root'];
const ACCOUNTS = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'];
const policy: PersistencePolicy = { paths: ['/etc', '/root'], excludes: ['/etc/ssh/*_key'], onConflict: 'keep-admin' };

/** What the admin changed (besides accounts, the conflict and the deletion): carried from the old layer. */
const FROM_LAYER = [
  '/etc/new.conf',
  '/etc/edited.conf',
  '/etc/chmod.conf',
  '/etc/xattr.conf',
  '/etc/localtime',
  '/etc/hl-a',
  '/etc/hl-b',
  '/etc/acl.conf',
  '/root/bin',
  '/root/bin/suid',
  '/root/bin/sgid',
  '/root/sparse.img',
];

let trees: UpdateTrees;
let scratch: Scratch;
let oldBase: string;
let oldLayer: string;

async function freshNewLayer(): Promise<string> {
  return trees.freshNewLayer();
}

beforeAll(async () => {
  trees = await buildUpdateTrees();
  ({ scratch, oldBase, oldLayer } = trees);
});
afterAll(async () => {
  await scratch?.remove();
});

describe('RsyncPersistence on ext4 loop devices', () => {
  it('carries only the admin changes, exactly, merges accounts by name, and leaves the new base alone elsewhere', async () => {
    const newLayer = await freshNewLayer();
    // The vendor deleted a file the admin never touched: it must stay deleted.
    await tool(['rm', join(newLayer, 'etc/hosts')]);
    const before = await describeTree(newLayer, [...ROOTS, 'usr']);
    const report = await plugin.carryOver({ oldBase, oldLayer, newLayer }, policy, { dryRun: false });

    const layer = await describeTree(oldLayer, ROOTS);
    const after = await describeTree(newLayer, [...ROOTS, 'usr']);
    const expected = new Map(before);
    for (const p of FROM_LAYER) expected.set(p, layer.get(p)!);
    expected.delete('/etc/todelete.conf');
    expected.set('/etc/conflict.conf', layer.get('/etc/conflict.conf')!);
    expected.set('/etc/conflict.conf.imgnew', before.get('/etc/conflict.conf')!);
    const compared = (m: Map<string, string>) =>
      new Map([...m].filter(([p]) => !ACCOUNTS.includes(p) && p !== '/etc' && p !== '/root'));
    // Directory modes, owners and xattrs too; hard links, SUID/SGID, ACLs, SELinux labels.
    expect(compared(after)).toEqual(compared(expected));
    expect(after.get('/root/bin/suid')).toMatch(/^f 4755 0:0 /);
    expect(after.get('/root/bin/sgid')).toMatch(/^f 2750 1000:1000 /);
    expect(after.get('/etc/hl-b')).toContain('=/etc/hl-a');
    expect(after.get('/etc/acl.conf')).toContain('security.selinux=0x');
    expect((await lstat(join(newLayer, 'root/sparse.img'))).blocks * 512).toBeLessThan(1024 * 1024);
    expect(after.get('/etc/ssh/ssh_host_key')).toBe(before.get('/etc/ssh/ssh_host_key'));
    // The vendor's edit of a file the admin left alone stays; the vendor's deletion stays.
    expect(await readFile(join(newLayer, 'etc/updated-by-new.conf'), 'utf8')).toBe('v2\n');
    expect(after.has('/etc/hosts')).toBe(false);
    expect(after.has('/etc/todelete.conf')).toBe(false);
    expect(await readFile(join(newLayer, 'etc/conflict.conf'), 'utf8')).toBe('admin\n');
    expect(await readFile(join(newLayer, 'etc/conflict.conf.imgnew'), 'utf8')).toBe('new base\n');

    expect(await readFile(join(newLayer, 'etc/passwd'), 'utf8')).toBe(
      'root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\nchrony:x:990:990::/var/lib/chrony:/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n',
    );
    expect(await readFile(join(newLayer, 'etc/gshadow'), 'utf8')).toBe(
      'root:::\nbin:::\nwheel:::root,alice\nchrony:!::\nalice:!::\n',
    );
    expect(report).toMatchObject({
      plugin: 'rsync',
      dryRun: false,
      copied: [...FROM_LAYER, '/etc/conflict.conf'].sort(),
      merged: [...ACCOUNTS].sort(),
      deleted: ['/etc/todelete.conf'],
      keptFromNewBase: ['/etc/added-by-new.conf', '/etc/hosts', '/etc/updated-by-new.conf'],
      conflicts: [
        {
          path: '/etc/conflict.conf',
          reason: 'modified by the admin, modified by the new base',
          resolution: 'kept-admin',
          savedAs: '/etc/conflict.conf.imgnew',
        },
      ],
    });
  });

  it('on a file both changed: takes the new base and saves the admin version, or fails writing nothing', async () => {
    const newLayer = await freshNewLayer();
    const taken = await plugin.carryOver(
      { oldBase, oldLayer, newLayer },
      { ...policy, conflictRules: [{ path: '/etc/conflict.conf', onConflict: 'take-new-save-admin' }] },
      { dryRun: false },
    );
    expect(taken.conflicts).toEqual([
      expect.objectContaining({
        path: '/etc/conflict.conf',
        resolution: 'took-new-saved-admin',
        savedAs: '/etc/conflict.conf.imgsave',
      }),
    ]);
    expect(await readFile(join(newLayer, 'etc/conflict.conf'), 'utf8')).toBe('new base\n');
    expect(await readFile(join(newLayer, 'etc/conflict.conf.imgsave'), 'utf8')).toBe('admin\n');

    const untouched = await freshNewLayer();
    const before = await describeTree(untouched, [...ROOTS, 'usr']);
    await expect(
      plugin.carryOver(
        { oldBase, oldLayer, newLayer: untouched },
        { ...policy, onConflict: 'fail' },
        { dryRun: false },
      ),
    ).rejects.toMatchObject({
      code: 'E_PERSISTENCE_CONFLICT',
      details: { conflicts: [{ path: '/etc/conflict.conf' }] },
    });
    expect(await describeTree(untouched, [...ROOTS, 'usr'])).toEqual(before);
  });

  it('only reports in a dry run', async () => {
    const newLayer = await freshNewLayer();
    const before = await describeTree(newLayer, ROOTS);
    const report = await plugin.carryOver({ oldBase, oldLayer, newLayer }, policy, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.copied).toContain('/etc/new.conf');
    expect(report.deleted).toEqual(['/etc/todelete.conf']);
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
      expect.objectContaining({ path: '/etc/conflict.conf', savedAs: '/etc/conflict.conf.imgsave' }),
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
    const { fs, oldBase: b, oldLayer: a, newLayer: n, outside } = await buildLinkAttack(scratch);
    const outsideBefore = await describeTree(fs, ['outside']);

    const report = await plugin.carryOver(
      { oldBase: b, oldLayer: a, newLayer: n },
      { paths: ['/etc', '/root'], excludes: [], onConflict: 'keep-admin' },
      { dryRun: false },
    );
    expect(await describeTree(fs, ['outside'])).toEqual(outsideBefore);
    expect((await lstat(join(n, 'etc/d'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(n, 'root'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(n, 'etc/out-rel'))).isSymbolicLink()).toBe(true);
    // The new base's link stays (the admin did not change etc/n); the admin's file is saved beside it.
    expect((await lstat(join(n, 'etc/n'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(n, 'etc/n.imgsave/added'), 'utf8')).toBe('admin adds into n\n');
    expect(report.conflicts).toEqual([
      {
        path: '/etc/n/added',
        reason: 'added by the admin, but /etc/n is not a directory in the new base',
        resolution: 'took-new-saved-admin',
        savedAs: '/etc/n.imgsave/added',
      },
    ]);

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

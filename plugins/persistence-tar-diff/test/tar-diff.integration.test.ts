import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistencePolicy } from '@imgbased/core';
import {
  buildUpdateTrees,
  describeTree,
  put,
  runner,
  type Scratch,
  tool,
  type UpdateTrees,
} from '@imgbased/system/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarDiffPersistence } from '../src/index.js';

// GNU tar, find, getfattr and cp on real ext4 file systems on loop devices: needs root.
const plugin = new TarDiffPersistence(runner);
const ROOTS = ['etc', 'root'];
const policy: PersistencePolicy = {
  paths: ['/etc', '/root'],
  excludes: ['/etc/ssh/*_key'],
  onConflict: 'keep-admin',
  conflictRules: [{ path: '/etc/conflict.conf', onConflict: 'take-new-save-admin' }],
};

let trees: UpdateTrees;
let scratch: Scratch;
let oldBase: string;
let oldLayer: string;
let layers = 0;

async function freshNewLayer(): Promise<string> {
  layers++;
  return trees.freshNewLayer();
}

beforeAll(async () => {
  trees = await buildUpdateTrees();
  ({ scratch, oldBase, oldLayer } = trees);
});
afterAll(async () => {
  await scratch?.remove();
});

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

describe('TarDiffPersistence on ext4 loop devices', () => {
  it('carries every kind of admin change three ways and keeps the new base elsewhere', async () => {
    const newLayer = await freshNewLayer();
    const before = await describeTree(newLayer, [...ROOTS, 'usr']);
    const report = await plugin.carryOver({ oldBase, oldLayer, newLayer }, policy, { dryRun: false });

    const layer = await describeTree(oldLayer, ROOTS);
    const after = await describeTree(newLayer, [...ROOTS, 'usr']);
    const accounts = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'];
    const expected = new Map(before);
    for (const p of FROM_LAYER) expected.set(p, layer.get(p)!);
    expected.delete('/etc/todelete.conf');
    expected.set('/etc/conflict.conf.imgsave', layer.get('/etc/conflict.conf')!);
    for (const p of ['/var', '/var/lib', '/var/lib/imgbased', '/var/lib/imgbased/persistence']) expected.delete(p);
    const compared = (m: Map<string, string>) =>
      new Map([...m].filter(([p]) => !accounts.includes(p) && p !== '/etc' && p !== '/root'));
    expect(compared(after)).toEqual(compared(expected));
    // SUID/SGID bits and owners, ACL and SELinux label came along exactly (checked above); spot-check.
    expect(after.get('/root/bin/suid')).toMatch(/^f 4755 0:0 /);
    expect(after.get('/root/bin/sgid')).toMatch(/^f 2750 1000:1000 /);
    expect(after.get('/etc/acl.conf')).toContain('system.posix_acl_access=');
    expect(after.get('/etc/acl.conf')).toContain('security.selinux=0x');
    expect(after.get('/etc/hl-b')).toContain('=/etc/hl-a');
    expect((await lstat(join(newLayer, 'root/sparse.img'))).blocks * 512).toBeLessThan(1024 * 1024);

    expect(await readFile(join(newLayer, 'etc/passwd'), 'utf8')).toBe(
      'root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\nchrony:x:990:990::/var/lib/chrony:/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n',
    );
    expect(await readFile(join(newLayer, 'etc/group'), 'utf8')).toBe(
      'root:x:0:\nbin:x:1:\nwheel:x:10:root,alice\nchrony:x:990:\nalice:x:1000:\n',
    );
    expect(await readFile(join(newLayer, 'etc/shadow'), 'utf8')).toContain('root:$6$admin:');
    expect((await lstat(join(newLayer, 'etc/shadow'))).mode & 0o7777).toBe(0);
    expect(after.get('/etc/shadow')?.split(' ').slice(0, 3)).toEqual(before.get('/etc/shadow')?.split(' ').slice(0, 3));

    expect(report).toMatchObject({
      plugin: 'tar-diff',
      dryRun: false,
      copied: [...FROM_LAYER].sort(),
      merged: accounts.sort(),
      deleted: ['/etc/todelete.conf'],
      keptFromNewBase: ['/etc/added-by-new.conf', '/etc/updated-by-new.conf'],
      conflicts: [
        {
          path: '/etc/conflict.conf',
          reason: 'modified by the admin, modified by the new base',
          resolution: 'took-new-saved-admin',
          savedAs: '/etc/conflict.conf.imgsave',
        },
      ],
    });
    // The record is kept: a manifest of the admin's changes with digests, and the deletion markers.
    expect(report.delta!.startsWith(join(newLayer, 'var/lib/imgbased/persistence/'))).toBe(true);
    const manifest = JSON.parse(await readFile(report.delta!, 'utf8'));
    expect(manifest.deleted).toEqual(['/etc/todelete.conf']);
    expect(manifest.changes['/etc/xattr.conf']).toBe('metadata');
    expect(manifest.changes['/etc/chmod.conf']).toBe('metadata');
    expect(manifest.changes['/etc/edited.conf']).toBe('modified');
    expect(manifest.changes['/etc/hosts']).toBeUndefined();
    const byPath = new Map<string, { after: { xattrs: string } }>(
      manifest.entries.map((e: { path: string; after: { xattrs: string } }) => [e.path, e]),
    );
    const sha = (await tool(['sha256sum', join(oldLayer, 'etc/edited.conf')])).stdout.split(' ')[0];
    expect(byPath.get('/etc/edited.conf')).toMatchObject({
      change: 'modified',
      outcome: 'applied',
      before: { type: 'f', size: 4 },
      after: { type: 'f', mode: 0o644, size: 4, sha256: sha },
    });
    expect(byPath.get('/etc/todelete.conf')).toMatchObject({ outcome: 'applied', after: null });
    expect(byPath.get('/etc/conflict.conf')).toMatchObject({ outcome: 'took-new-saved-admin' });
    expect(byPath.get('/root/bin/suid')).toMatchObject({ after: { mode: 0o4755 } });
    expect(byPath.get('/etc/hl-b')).toMatchObject({ after: { hardLinkTo: '/etc/hl-a' } });
    expect(byPath.get('/etc/xattr.conf')?.after.xattrs).toMatch(/^[0-9a-f]{64}$/);

    // Exported on demand as a tar delta (from the old layer, checked against the record) and re-applied
    // onto another new layer: the same result as the carry-over, the account files aside.
    const tar = join(scratch.work, `delta-${layers}.tar`);
    await plugin.exportDelta(report.delta!, oldLayer, tar);
    const members = (await tool(['tar', '-tf', tar])).stdout.trim().split('\n');
    expect(members).toContain('.imgbased-delta.json');
    expect(members).toEqual(expect.arrayContaining(['etc/new.conf', 'etc/conflict.conf', 'root/bin/suid']));
    expect(members).not.toContain('etc/hosts');
    const again = await freshNewLayer();
    const reapplied = await plugin.applyDelta(tar, again, policy);
    expect(reapplied.copied).toEqual([...FROM_LAYER].sort());
    expect(reapplied.deleted).toEqual(['/etc/todelete.conf']);
    expect(reapplied.conflicts).toEqual([
      expect.objectContaining({ path: '/etc/conflict.conf', resolution: 'took-new-saved-admin' }),
    ]);
    const other = await describeTree(again, [...ROOTS, 'usr']);
    for (const p of ['/var', '/var/lib', '/var/lib/imgbased', '/var/lib/imgbased/persistence']) other.delete(p);
    expect(compared(other)).toEqual(compared(after));
  });

  it('refuses to export from a tree that moved on, and to apply a delta that does not match its manifest', async () => {
    const newLayer = await freshNewLayer();
    const keepAdmin = { ...policy, conflictRules: [] };
    const report = await plugin.carryOver({ oldBase, oldLayer, newLayer }, keepAdmin, { dryRun: false });
    // Under keep-admin the new layer holds every change: a source as good as the old layer, until one changes.
    const fromNew = await plugin.exportDelta(report.delta!, newLayer, join(scratch.work, `from-new-${layers}.tar`));
    expect(fromNew.members).toBe(FROM_LAYER.length + 1);
    await put(newLayer, 'etc/edited.conf', 'a=3\n');
    const refused = join(scratch.work, `refused-${layers}.tar`);
    await expect(plugin.exportDelta(report.delta!, newLayer, refused)).rejects.toMatchObject({
      code: 'E_UNSAFE_PATH',
      message: expect.stringContaining('/etc/edited.conf: sha256 differ'),
    });
    await expect(lstat(refused)).rejects.toMatchObject({ code: 'ENOENT' });

    // A delta whose member was swapped after export: refused before the target is touched.
    const good = join(scratch.work, `good-${layers}.tar`);
    await plugin.exportDelta(report.delta!, oldLayer, good);
    const work = join(scratch.work, `tamper-${layers}`);
    await mkdir(work);
    await tool(['tar', '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '-xpf', good, '-C', work]);
    await writeFile(join(work, 'etc/new.conf'), 'not what the admin wrote\n');
    const tampered = join(scratch.work, `tampered-${layers}.tar`);
    await tool([
      'tar',
      '--xattrs',
      '--xattrs-include=*',
      '--acls',
      '--numeric-owner',
      '--sparse',
      '-cpf',
      tampered,
      '-C',
      work,
      '.imgbased-delta.json',
      'etc',
      'root',
    ]);
    const target = await freshNewLayer();
    const before = await describeTree(target, [...ROOTS, 'var']);
    await expect(plugin.applyDelta(tampered, target, policy)).rejects.toMatchObject({
      code: 'E_UNSAFE_PATH',
      message: expect.stringContaining('/etc/new.conf'),
    });
    const afterRefusal = await describeTree(target, [...ROOTS, 'var']);
    // (Only the staging directory's parents are left.)
    for (const p of ['/var', '/var/lib', '/var/lib/imgbased', '/var/lib/imgbased/persistence']) afterRefusal.delete(p);
    expect(afterRefusal).toEqual(before);
  });

  it('refuses a delta naming a path outside the policy’s paths, writing nothing', async () => {
    const good = join(scratch.work, `outside-good-${++layers}.tar`);
    const newLayer = await freshNewLayer();
    const report = await plugin.carryOver({ oldBase, oldLayer, newLayer }, policy, { dryRun: false });
    await plugin.exportDelta(report.delta!, oldLayer, good);
    // The same file and manifest entry once more, as /usr/new.conf: a delta consistent with itself.
    const work = join(scratch.work, `outside-${layers}`);
    await mkdir(work);
    await tool(['tar', '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '-xpf', good, '-C', work]);
    await mkdir(join(work, 'usr'));
    await tool(['cp', '-a', join(work, 'etc/new.conf'), join(work, 'usr/new.conf')]);
    const manifestPath = join(work, '.imgbased-delta.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { entries: { path: string }[] };
    manifest.entries.push({ ...manifest.entries.find((e) => e.path === '/etc/new.conf')!, path: '/usr/new.conf' });
    await writeFile(manifestPath, JSON.stringify(manifest));
    const outside = join(scratch.work, `outside-${layers}.tar`);
    const pack = ['tar', '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '-cpf', outside, '-C', work];
    await tool([...pack, '.imgbased-delta.json', 'etc', 'root', 'usr']);
    const target = await freshNewLayer();
    const before = await describeTree(target, [...ROOTS, 'usr', 'var']);
    for (const dryRun of [true, false])
      await expect(plugin.applyDelta(outside, target, policy, { dryRun })).rejects.toMatchObject({
        code: 'E_UNSAFE_PATH',
        message: expect.stringContaining('/usr/new.conf'),
      });
    expect(await describeTree(target, [...ROOTS, 'usr', 'var'])).toEqual(before);
  });

  it('keeps the admin version of a conflict under keep-admin, the new base version beside it, and reports it', async () => {
    const newLayer = await freshNewLayer();
    const report = await plugin.carryOver(
      { oldBase, oldLayer, newLayer },
      { ...policy, conflictRules: [] },
      { dryRun: false },
    );
    expect(await readFile(join(newLayer, 'etc/conflict.conf'), 'utf8')).toBe('admin\n');
    expect(report.conflicts).toEqual([
      {
        path: '/etc/conflict.conf',
        reason: 'modified by the admin, modified by the new base',
        resolution: 'kept-admin',
        savedAs: '/etc/conflict.conf.imgnew',
      },
    ]);
    expect(await readFile(join(newLayer, 'etc/conflict.conf.imgnew'), 'utf8')).toBe('new base\n');
    await expect(lstat(join(newLayer, 'etc/conflict.conf.imgsave'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails on a conflict under fail and leaves the new layer exactly as it was', async () => {
    const newLayer = await freshNewLayer();
    const before = await describeTree(newLayer, [...ROOTS, 'var']);
    const error = await plugin
      .carryOver(
        { oldBase, oldLayer, newLayer },
        { ...policy, conflictRules: [], onConflict: 'fail' },
        { dryRun: false },
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'E_PERSISTENCE_CONFLICT',
      details: { conflicts: [{ path: '/etc/conflict.conf' }] },
    });
    expect(await describeTree(newLayer, [...ROOTS, 'var'])).toEqual(before);
  });

  it('only reports in a dry run', async () => {
    const newLayer = await freshNewLayer();
    const before = await describeTree(newLayer, [...ROOTS, 'var']);
    const report = await plugin.carryOver({ oldBase, oldLayer, newLayer }, policy, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.copied).toEqual([...FROM_LAYER].sort());
    expect(report.delta).toBeUndefined();
    expect(await describeTree(newLayer, [...ROOTS, 'var'])).toEqual(before);
  });
});

import { link, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistencePolicy } from '@imgbased/core';
import { buildLinkAttack, describeTree, put, runner, Scratch, tool } from '@imgbased/system/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarDiffPersistence } from '../src/index.js';

// Names that are not valid UTF-8, a directory the new base made a symlink, both sides changing a file:
// on real ext4 (needs root).
const plugin = new TarDiffPersistence(runner);
const policy: PersistencePolicy = { paths: ['/etc'], excludes: [], onConflict: 'keep-admin' };

let scratch: Scratch;
let fs: string;
let count = 0;
beforeAll(async () => {
  scratch = await Scratch.create();
  fs = await scratch.mount(await scratch.image('odd', 32 * 1024 * 1024));
});
afterAll(async () => {
  await scratch?.remove();
});

/** A path under `dir` made of text and raw bytes. */
const bytes = (dir: string, ...parts: (string | number[])[]) =>
  Buffer.concat([Buffer.from(dir), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))]);

/** Three trees in one file system: base, the admin's copy of it, the new base's copy of it. */
async function trees(): Promise<{ oldBase: string; oldLayer: string; newLayer: string }> {
  const root = join(fs, `case-${++count}`);
  const oldBase = join(root, 'base');
  await put(oldBase, 'etc/hosts', '127.0.0.1 localhost\n');
  await put(oldBase, 'etc/n/keep', 'base\n');
  await put(oldBase, 'etc/both.conf', 'base\n');
  const [oldLayer, newLayer] = [join(root, 'layer'), join(root, 'new')];
  await tool(['cp', '-a', oldBase, oldLayer]);
  await tool(['cp', '-a', oldBase, newLayer]);
  return { oldBase, oldLayer, newLayer };
}

describe('tar-diff: names are bytes from find to tar', () => {
  it('carries names that are not valid UTF-8, beside a hard-linked file, byte for byte', async () => {
    const t = await trees();
    await writeFile(bytes(t.oldLayer, '/etc/caf', [0xe9], '.conf'), 'latin-1 name\n');
    await writeFile(bytes(t.oldLayer, '/etc/caf', [0xc3, 0xa9], '.conf'), 'utf-8 name\n');
    await mkdir(bytes(t.oldLayer, '/etc/dir', [0xff]));
    await writeFile(bytes(t.oldLayer, '/etc/dir', [0xff], '/inner', [0x80]), 'inner\n');
    await symlink(bytes('', '../caf', [0xe9], '.conf'), bytes(t.oldLayer, '/etc/link', [0xfe]));
    await put(t.oldLayer, 'etc/hl-a', 'hard linked\n');
    await link(join(t.oldLayer, 'etc/hl-a'), join(t.oldLayer, 'etc/hl-b'));

    const report = await plugin.carryOver(t, policy, { dryRun: false });

    expect(report.copied).toEqual([
      '/etc/café.conf',
      '/etc/caf\udce9.conf',
      '/etc/dir\udcff',
      '/etc/dir\udcff/inner\udc80',
      '/etc/hl-a',
      '/etc/hl-b',
      '/etc/link\udcfe',
    ]);
    const names = async (dir: string) => (await readdir(join(dir, 'etc'), { encoding: 'buffer' })).map(String).sort();
    expect(
      (await readdir(join(t.newLayer, 'etc'), { encoding: 'buffer' })).map((b) => b.toString('hex')).sort(),
    ).toEqual((await readdir(join(t.oldLayer, 'etc'), { encoding: 'buffer' })).map((b) => b.toString('hex')).sort());
    expect(await names(t.newLayer)).toContain('hl-b');
    expect(await readFile(bytes(t.newLayer, '/etc/caf', [0xe9], '.conf'), 'utf8')).toBe('latin-1 name\n');
    expect(await readFile(bytes(t.newLayer, '/etc/dir', [0xff], '/inner', [0x80]), 'utf8')).toBe('inner\n');
    expect(await readlink(bytes(t.newLayer, '/etc/link', [0xfe]), { encoding: 'buffer' })).toEqual(
      bytes('', '../caf', [0xe9], '.conf'),
    );
    const [a, b] = await Promise.all([lstat(join(t.newLayer, 'etc/hl-a')), lstat(join(t.newLayer, 'etc/hl-b'))]);
    expect(a.ino).toBe(b.ino);
    // The record names them the same way, so that it can be checked and exported again.
    const out = join(scratch.work, `odd-${count}.tar`);
    await plugin.exportDelta(report.delta!, t.oldLayer, out);
    const members = (await tool(['tar', '-tf', out])).stdout;
    expect(members).toContain('etc/hl-b');
    expect((await tool(['tar', '--null', '-tf', out, '--quoting-style=escape'])).stdout).toContain('etc/caf\\351.conf');
  });
});

describe('tar-diff: nothing of either side is lost silently', () => {
  it('saves an edit below a directory the new base made a symlink as DIRECTORY.imgsave/…, and says so', async () => {
    const t = await trees();
    await put(t.oldLayer, 'etc/n/keep', 'admin\n', { mode: 0o600 });
    await put(t.oldLayer, 'etc/n/sub/added', 'added\n');
    await tool(['rm', '-r', join(t.newLayer, 'etc/n')]);
    await symlink('../usr/share/n', join(t.newLayer, 'etc/n'));

    const report = await plugin.carryOver(t, policy, { dryRun: false });

    expect(report.conflicts).toEqual([
      {
        path: '/etc/n/keep',
        reason: 'modified by the admin, but /etc/n is not a directory in the new base',
        resolution: 'took-new-saved-admin',
        savedAs: '/etc/n.imgsave/keep',
      },
      expect.objectContaining({ path: '/etc/n/sub', savedAs: '/etc/n.imgsave/sub' }),
      expect.objectContaining({ path: '/etc/n/sub/added', savedAs: '/etc/n.imgsave/sub/added' }),
    ]);
    expect(await readlink(join(t.newLayer, 'etc/n'))).toBe('../usr/share/n');
    expect(await readFile(join(t.newLayer, 'etc/n.imgsave/keep'), 'utf8')).toBe('admin\n');
    expect((await lstat(join(t.newLayer, 'etc/n.imgsave/keep'))).mode & 0o7777).toBe(0o600);
    expect(await readFile(join(t.newLayer, 'etc/n.imgsave/sub/added'), 'utf8')).toBe('added\n');
    expect((await readdir(t.newLayer)).filter((n) => n.startsWith('.imgbased'))).toEqual([]);
  });

  it('keeps the admin version of a file both changed and the new base version beside it as .imgnew', async () => {
    const t = await trees();
    await put(t.oldLayer, 'etc/both.conf', 'admin\n');
    await put(t.newLayer, 'etc/both.conf', 'new base\n', { mode: 0o640 });

    const report = await plugin.carryOver(t, policy, { dryRun: false });

    expect(report.conflicts).toEqual([
      {
        path: '/etc/both.conf',
        reason: 'modified by the admin, modified by the new base',
        resolution: 'kept-admin',
        savedAs: '/etc/both.conf.imgnew',
      },
    ]);
    expect(await readFile(join(t.newLayer, 'etc/both.conf'), 'utf8')).toBe('admin\n');
    expect(await readFile(join(t.newLayer, 'etc/both.conf.imgnew'), 'utf8')).toBe('new base\n');
    expect((await lstat(join(t.newLayer, 'etc/both.conf.imgnew'))).mode & 0o7777).toBe(0o640);
  });

  it('never writes outside the target: links out of the tree, .. names, a link swapped for a directory', async () => {
    const { fs, oldBase: b, oldLayer: a, newLayer: n, outside } = await buildLinkAttack(scratch);
    await put(a, 'etc/a..b', 'dots\n');
    await mkdir(join(n, 'var'));
    const outsideBefore = await describeTree(fs, ['outside']);

    const report = await plugin.carryOver(
      { oldBase: b, oldLayer: a, newLayer: n },
      { paths: ['/etc', '/root'], excludes: [], onConflict: 'keep-admin' },
      { dryRun: false },
    );
    expect(await describeTree(fs, ['outside'])).toEqual(outsideBefore);
    expect((await lstat(join(n, 'etc/d'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(n, 'root'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(n, 'etc/out-abs'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(n, 'etc/up'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(n, 'etc/..evil'), 'utf8')).toBe('dots\n');
    expect((await lstat(join(n, 'etc/n'))).isSymbolicLink()).toBe(true);
    expect(report.conflicts).toEqual([
      expect.objectContaining({
        path: '/etc/n/added',
        reason: expect.stringContaining('/etc/n is not a directory'),
        savedAs: '/etc/n.imgsave/added',
      }),
    ]);
    expect(await readFile(join(n, 'etc/n.imgsave/added'), 'utf8')).toBe('admin adds into n\n');
    // A delta path through a symlink is refused before anything is written.
    await tool(['rm', '-r', join(n, 'var')]);
    await symlink(outside, join(n, 'var'));
    await expect(
      plugin.carryOver(
        { oldBase: b, oldLayer: a, newLayer: n },
        { paths: ['/etc'], excludes: [], onConflict: 'keep-admin' },
        { dryRun: false },
      ),
    ).rejects.toMatchObject({ code: 'E_UNSAFE_PATH' });
    await writeFile(join(fs, 'marker'), '');
    expect(await describeTree(fs, ['outside'])).toEqual(outsideBefore);
  });
});

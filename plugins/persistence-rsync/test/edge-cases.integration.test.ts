import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistencePolicy } from '@imgbased/core';
import { put, runner, Scratch, tool } from '@imgbased/system/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RsyncPersistence } from '../src/index.js';

// Names that are not valid UTF-8, deletions of files and of directories the new base filled: real rsync
// on real ext4 (needs root).
const plugin = new RsyncPersistence(runner);
const policy: PersistencePolicy = { paths: ['/etc'], excludes: [], onConflict: 'keep-admin' };

let scratch: Scratch;
let fs: string;
let count = 0;
beforeAll(async () => {
  scratch = await Scratch.create();
  fs = await scratch.mount(await scratch.image('rsync-edges', 32 * 1024 * 1024));
});
afterAll(async () => {
  await scratch?.remove();
});

const bytes = (dir: string, ...parts: (string | number[])[]) =>
  Buffer.concat([Buffer.from(dir), ...parts.map((p) => Buffer.from(p as string))]);

async function trees(): Promise<{ oldBase: string; oldLayer: string; newLayer: string }> {
  const root = join(fs, `case-${++count}`);
  const oldBase = join(root, 'base');
  await put(oldBase, 'etc/hosts', '127.0.0.1 localhost\n');
  await put(oldBase, 'etc/d/x', 'x\n');
  await writeFile(bytes(oldBase, '/etc/old', [0xe9]), 'old\n');
  const [oldLayer, newLayer] = [join(root, 'layer'), join(root, 'new')];
  await tool(['cp', '-a', oldBase, oldLayer]);
  await tool(['cp', '-a', oldBase, newLayer]);
  return { oldBase, oldLayer, newLayer };
}

describe('rsync: deletions and names as bytes', () => {
  it('deletes what the admin deleted and adds what the admin added, names byte for byte', async () => {
    const t = await trees();
    await unlink(bytes(t.oldLayer, '/etc/old', [0xe9]));
    await mkdir(bytes(t.oldLayer, '/etc/new', [0xff]));
    await writeFile(bytes(t.oldLayer, '/etc/new', [0xff], '/in', [0x80]), 'in\n');
    await put(t.oldLayer, 'etc/line\nbreak', 'nl\n');

    const report = await plugin.carryOver(t, policy, { dryRun: false });

    expect(report.deleted).toEqual(['/etc/old\udce9']);
    expect(report.copied).toEqual(['/etc/line\nbreak', '/etc/new\udcff', '/etc/new\udcff/in\udc80']);
    expect(report.conflicts).toEqual([]);
    const hex = async (dir: string) =>
      (await readdir(join(dir, 'etc'), { encoding: 'buffer' })).map((b) => b.toString('hex')).sort();
    expect(await hex(t.newLayer)).toEqual(await hex(t.oldLayer));
    expect(await readFile(bytes(t.newLayer, '/etc/new', [0xff], '/in', [0x80]), 'utf8')).toBe('in\n');
  });

  it('a directory the admin deleted and the new base filled: kept deleted, the new base one aside as .imgnew', async () => {
    const t = await trees();
    await tool(['rm', '-r', join(t.oldLayer, 'etc/d')]);
    await put(t.newLayer, 'etc/d/vendor', 'vendor\n');

    const report = await plugin.carryOver(t, policy, { dryRun: false });

    expect(report.deleted).toEqual(['/etc/d', '/etc/d/x']);
    expect(report.conflicts).toEqual([
      {
        path: '/etc/d',
        reason: 'deleted by the admin; the new base has 1 other entries in it',
        resolution: 'kept-admin',
        savedAs: '/etc/d.imgnew',
      },
    ]);
    expect((await readdir(join(t.newLayer, 'etc'))).sort()).toEqual(['d.imgnew', 'hosts', 'old\ufffd']);
    expect(await readdir(join(t.newLayer, 'etc/d.imgnew'))).toEqual(['vendor']);
  });
});

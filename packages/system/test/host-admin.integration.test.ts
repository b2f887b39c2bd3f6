// The admin verbs' file and tree adapters on real files (a temporary directory), real cp, find,
// getfattr and diff: the comparison is checked against diff -r of the same trees.
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareTrees } from '@imgbased/core';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecaCommandRunner, NodeHostFiles, NodeTreeReader } from '../src/index.js';

const runner = new ExecaCommandRunner();
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imgbased-admin-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('NodeHostFiles', () => {
  it('moves a tree: copy keeps modes, links and times; clear empties the directory but keeps it', async () => {
    const files = new NodeHostFiles(runner);
    await mkdir(join(dir, 'from/sub'), { recursive: true });
    await writeFile(join(dir, 'from/sub/a'), 'a');
    await chmod(join(dir, 'from/sub/a'), 0o600);
    await symlink('sub/a', join(dir, 'from/link'));
    await mkdir(join(dir, 'to'));
    await files.copyContents(join(dir, 'from'), join(dir, 'to'));
    expect(await files.readText(join(dir, 'to/sub/a'))).toBe('a');
    const { stdout } = await execa('stat', ['-c', '%a %F', join(dir, 'to/sub/a'), join(dir, 'to/link')]);
    expect(stdout).toBe('600 regular file\n777 symbolic link');
    await files.clearDirectory(join(dir, 'from'));
    expect(await files.list(join(dir, 'from'))).toEqual([]);
  });

  it('writes whole files and links, refusing to write through a symlinked directory', async () => {
    const files = new NodeHostFiles(runner);
    await files.writeText(join(dir, 'etc/systemd/system/var-log.mount'), '[Mount]\n');
    await files.symlink('/etc/systemd/system/var-log.mount', join(dir, 'etc/systemd/system/w/var-log.mount'));
    expect(await readFile(join(dir, 'etc/systemd/system/var-log.mount'), 'utf8')).toBe('[Mount]\n');
    await symlink('/etc', join(dir, 'evil'));
    await expect(files.writeText(join(dir, 'evil/motd.d/x'), 'x')).rejects.toMatchObject({ code: 'E_UNSAFE_PATH' });
    await files.remove(join(dir, 'etc/systemd/system/w/var-log.mount'));
    expect(await files.list(join(dir, 'etc/systemd/system/w'))).toEqual([]);
  });
});

describe('NodeTreeReader', () => {
  it('finds what diff -r finds, and the metadata diff -r does not see', async () => {
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    for (const root of [a, b]) {
      await mkdir(join(root, 'etc/d'), { recursive: true });
      await writeFile(join(root, 'etc/same'), 'same\n');
      await writeFile(join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
      await writeFile(join(root, 'etc/mode'), 'm\n');
      await utimes(join(root, 'etc/hosts'), 1000, 1000);
    }
    await writeFile(join(b, 'etc/hosts'), '127.0.0.1 localhost.here\n');
    await writeFile(join(a, 'etc/d/old'), 'old');
    await writeFile(join(b, 'etc/new'), 'new');
    await chmod(join(b, 'etc/mode'), 0o600);
    await symlink('hosts', join(b, 'etc/link'));
    const trees = new NodeTreeReader(runner);
    const compared = compareTrees(await trees.list(a), await trees.list(b));
    expect([compared.added, compared.removed]).toEqual([['/etc/link', '/etc/new'], ['/etc/d/old']]);
    expect(compared.changed).toEqual([
      { path: '/etc/hosts', changes: ['content'] },
      { path: '/etc/mode', changes: ['mode'] },
    ]);
    const diffR = await execa('diff', ['-rq', '--no-dereference', a, b], { reject: false });
    expect(diffR.stdout.split('\n').sort()).toEqual([
      `Files ${a}/etc/hosts and ${b}/etc/hosts differ`,
      `Only in ${a}/etc/d: old`,
      `Only in ${b}/etc: link`,
      `Only in ${b}/etc: new`,
    ]);
    expect(await trees.sameContent(join(a, 'etc/same'), join(b, 'etc/same'))).toBe(true);
    expect(await trees.sameContent(join(a, 'etc/hosts'), join(b, 'etc/hosts'))).toBe(false);
    const diff = await trees.textDiff(join(a, 'etc/hosts'), join(b, 'etc/hosts'), {
      a: 'A/etc/hosts',
      b: 'B/etc/hosts',
    });
    expect(diff).toContain('--- A/etc/hosts\n+++ B/etc/hosts\n');
    expect(diff).toContain('+127.0.0.1 localhost.here');
    await writeFile(join(a, 'bin'), Buffer.from([0, 1, 2]));
    expect(await trees.textDiff(join(a, 'bin'), join(a, 'etc/hosts'), { a: 'x', b: 'y' })).toBeUndefined();
  });
});

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { parseItemized, RsyncPersistence } from './rsync-persistence.js';

describe('parseItemized', () => {
  it('lists what rsync changed, absolute, without directories whose only change is their time', () => {
    const out = [
      'cd+++++++++ root/bin/',
      '>f+++++++++ root/bin/suid',
      '.d..t...... etc/',
      '.f...p..... etc/chmod.conf',
      '.f........x etc/xattr.conf',
      'cL+++++++++ etc/localtime',
      'hf+++++++++ etc/hl-b',
      '>f+++++++++ etc/caf\\#303\\#251',
      '',
    ].join('\n');
    expect(parseItemized(out)).toEqual([
      '/etc/caf\u00c3\u00a9',
      '/etc/chmod.conf',
      '/etc/hl-b',
      '/etc/localtime',
      '/etc/xattr.conf',
      '/root/bin',
      '/root/bin/suid',
    ]);
  });
});

describe('RsyncPersistence', () => {
  it('runs one rsync that keeps everything, with anchored excludes and the account files left to the merge', async () => {
    const layer = await mkdtemp(join(tmpdir(), 'imgbased-rsync-unit-'));
    await mkdir(join(layer, 'etc'));
    const runner = new ScriptedRunner();
    const plugin = new RsyncPersistence(runner);
    const report = await plugin.carryOver(
      { oldBase: '/nonexistent/b', oldLayer: layer, newLayer: '/nonexistent/n' },
      { paths: ['/etc/', '/etc/ssh'], excludes: ['/etc/ssh/*_key'], onConflict: 'fail' },
      { dryRun: true },
    );
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0]).toMatchObject({ mutates: false });
    expect(runner.commandLines[0]).toBe(
      `rsync -aHAXS --checksum --numeric-ids --relative --force --8-bit-output --dry-run --out-format=%i %n --exclude=/etc/ssh/*_key --exclude=/etc/passwd --exclude=/etc/group --exclude=/etc/shadow --exclude=/etc/gshadow -- ${layer}/./etc /nonexistent/n/`,
    );
    await rm(layer, { recursive: true });
    expect(report).toMatchObject({ plugin: 'rsync', dryRun: true, copied: [], deleted: [] });
  });
});

import { ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { FindmntHostMounts, parseMountTable } from './findmnt-host-mounts.js';
import { parseGetfattr } from './node-tree-reader.js';

describe('the mount table', () => {
  it('is read from findmnt --json --list, options split, device numbers parsed', async () => {
    const stdout = JSON.stringify({
      filesystems: [
        {
          target: '/',
          source: '/dev/mapper/onn-Base--1--0+1',
          fstype: 'ext4',
          options: 'rw,relatime,discard',
          'maj:min': '253:4',
        },
        { target: '/tmp', source: 'tmpfs', fstype: 'tmpfs', options: 'rw', 'maj:min': '0:33' },
      ],
    });
    const runner = new ScriptedRunner({ strict: true }).on(['findmnt'], { stdout });
    const table = await new FindmntHostMounts(runner).list();
    expect(table[0]).toEqual({
      target: '/',
      source: '/dev/mapper/onn-Base--1--0+1',
      fstype: 'ext4',
      options: ['rw', 'relatime', 'discard'],
      device: { major: 253, minor: 4 },
    });
    expect(runner.calls[0]!.argv).toEqual([
      'findmnt',
      '--json',
      '--list',
      '--nofsroot',
      '--output',
      'TARGET,SOURCE,FSTYPE,OPTIONS,MAJ:MIN',
    ]);
    expect(() => parseMountTable('nope')).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
  });

  it('mounts (bind, read-only, discard) and unmounts with mount(8) and umount(8); a dry run only plans them', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['mount'], {}).on(['umount'], {});
    const mounts = new FindmntHostMounts(runner);
    const context = { dryRun: true };
    await mounts.mount(
      { source: '/dev/onn/var_log', directory: '/nonexistent/var/log', readOnly: false, options: ['discard'] },
      context,
    );
    await mounts.mount({ source: '/', directory: '/nonexistent/b', readOnly: true, bind: true }, context);
    await mounts.unmount('/nonexistent/b', context);
    expect(runner.calls.map((c) => c.argv.join(' '))).toEqual([
      'mount -o rw,discard /dev/onn/var_log /nonexistent/var/log',
      'mount --bind -o ro / /nonexistent/b',
      'umount /nonexistent/b',
    ]);
  });
});

describe('getfattr output', () => {
  it('gives each file’s attributes, names unescaped', () => {
    const parsed = parseGetfattr(
      '# file: /mnt/a/etc/my\\040file\nsecurity.selinux=0x7379\nuser.x=0x01\n\n# file: /mnt/a/bin\nuser.y=0x02\n',
    );
    expect(Object.fromEntries(parsed)).toEqual({
      '/mnt/a/etc/my file': { 'security.selinux': '0x7379', 'user.x': '0x01' },
      '/mnt/a/bin': { 'user.y': '0x02' },
    });
  });
});

import { spawnSync } from 'node:child_process';
import { ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { Ext4Driver } from './ext4-driver.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid!;
}

describe('Ext4Driver: mounts a killed process left', () => {
  it('finds imgbased mount directories of dead processes (any TMPDIR, older names too), never a live one', async () => {
    const dead = deadPid();
    const findmnt = [
      '/ /dev/vda2',
      `/tmp/imgbased-mnt-${dead}-AbC123/root /dev/mapper/onn-Base--1--0+2`,
      `/var/tmp/x/imgbased-mnt-${dead}-Zz9/root /dev/mapper/onn-Base--2--0`,
      `/tmp/imgbased-mnt-${process.pid}-live/root /dev/mapper/onn-Base--1--0+1`,
      '/tmp/imgbased-mnt-old123/root /dev/mapper/onn-Base--1--0',
      '/mnt/imgbased-mnt-1-x/other /dev/sdb1',
      '/srv/with\\x20blank/imgbased-mnt-1-q/root /dev/sdc1',
    ].join('\n');
    const runner = new ScriptedRunner({ strict: true }).on(['findmnt'], { stdout: `${findmnt}\n` });
    const found = await new Ext4Driver(runner).leftoverMounts();
    expect(runner.calls[0]).toMatchObject({ argv: ['findmnt', '-rn', '-o', 'TARGET,SOURCE'], mutates: false });
    const expected = [
      { directory: `/tmp/imgbased-mnt-${dead}-AbC123/root`, source: '/dev/mapper/onn-Base--1--0+2' },
      { directory: `/var/tmp/x/imgbased-mnt-${dead}-Zz9/root`, source: '/dev/mapper/onn-Base--2--0' },
      { directory: '/tmp/imgbased-mnt-old123/root', source: '/dev/mapper/onn-Base--1--0' },
    ];
    // pid 1 is alive: its mount stays.
    expect(found).toEqual(expected.reverse());
  });

  it('releases one: unmounts it and removes its directories; in a dry run only plans the unmount', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['umount'], {});
    const mount = { directory: '/nonexistent/imgbased-mnt-1-x/root', source: '/dev/onn/x' };
    await new Ext4Driver(runner).releaseMount(mount, { dryRun: true });
    expect(runner.calls).toEqual([{ argv: ['umount', mount.directory], mutates: true }]);
    await new Ext4Driver(runner).releaseMount(mount);
    expect(runner.commandLines).toEqual([`umount ${mount.directory}`, `umount ${mount.directory}`]);
  });
});

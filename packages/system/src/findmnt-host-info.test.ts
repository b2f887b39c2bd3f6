import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelledError,
  CommandFailedError,
  CommandNotFoundError,
  type CommandRunner,
  InternalError,
} from '@imgbased/core';
import { ScriptedRunner } from '@imgbased/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FindmntHostInfo, parseFindmnt } from './findmnt-host-info.js';

const rootJson = `{
   "filesystems": [
      {
         "source": "/dev/mapper/onn-ovirt--node--ng--4.5.5--0.20231130.0+1",
         "maj:min": "253:14"
      }
   ]
}
`;

describe('FindmntHostInfo', () => {
  it('reads the root with findmnt --mountpoint /', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['findmnt'], { stdout: rootJson });
    const root = await new FindmntHostInfo(runner).mountedRoot();
    expect(runner.commandLines).toEqual(['findmnt --json --nofsroot --output SOURCE,MAJ:MIN --mountpoint /']);
    expect(runner.calls[0]!.mutates).toBe(false);
    expect(root).toEqual({
      source: '/dev/mapper/onn-ovirt--node--ng--4.5.5--0.20231130.0+1',
      device: { major: 253, minor: 14 },
    });
  });

  it('reads the device behind a path with findmnt --target', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['findmnt'], {
      stdout: '{"filesystems": [{"source": "/dev/vda", "maj:min": "254:0"}]}',
    });
    const mount = await new FindmntHostInfo(runner).deviceOfMount('/var/lib/x');
    expect(runner.commandLines).toEqual(['findmnt --json --nofsroot --output SOURCE,MAJ:MIN --target /var/lib/x']);
    expect(mount).toEqual({ source: '/dev/vda', device: { major: 254, minor: 0 } });
  });

  it('still reads in a dry run', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['findmnt'], { stdout: rootJson });
    expect((await new FindmntHostInfo(runner).mountedRoot({ dryRun: true })).device).toEqual({
      major: 253,
      minor: 14,
    });
  });

  it('passes findmnt failures on', async () => {
    const runner = new ScriptedRunner().on(['findmnt'], { exitCode: 1, stderr: 'findmnt: nothing' });
    await expect(new FindmntHostInfo(runner).deviceOfMount('/nope')).rejects.toBeInstanceOf(CommandFailedError);
  });
});

describe('FindmntHostInfo probes', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'imgbased-hostinfo-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('gives the running kernel as uname -r does, without running a command', async () => {
    const runner = new ScriptedRunner({ strict: true });
    expect(await new FindmntHostInfo(runner).runningKernel()).toBe(release());
    expect(runner.calls).toEqual([]);
  });

  it('lists a directory, hidden names included, without running a command', async () => {
    await writeFile(join(work, 'vmlinuz-6.1.0'), '');
    await writeFile(join(work, '.hidden'), '');
    await mkdir(join(work, 'grub'));
    const runner = new ScriptedRunner({ strict: true });
    expect((await new FindmntHostInfo(runner).listDirectory(work)).sort()).toEqual([
      '.hidden',
      'grub',
      'vmlinuz-6.1.0',
    ]);
    expect(runner.calls).toEqual([]);
  });

  it('lists a missing directory, or a file, as empty', async () => {
    await writeFile(join(work, 'file'), '');
    const host = new FindmntHostInfo(new ScriptedRunner({ strict: true }));
    expect(await host.listDirectory(join(work, 'missing'))).toEqual([]);
    expect(await host.listDirectory(join(work, 'file'))).toEqual([]);
    expect(await host.listDirectory(join(work, 'file', 'below'))).toEqual([]);
  });

  it('tells the free and total bytes of a file system by statfs, undefined for a missing path', async () => {
    const host = new FindmntHostInfo(new ScriptedRunner({ strict: true }));
    const space = await host.spaceOf(work);
    expect(space!.sizeBytes).toBeGreaterThan(0);
    expect(space!.freeBytes).toBeGreaterThanOrEqual(0);
    expect(space!.freeBytes).toBeLessThanOrEqual(space!.sizeBytes);
    expect(await host.spaceOf(join(work, 'missing'))).toBeUndefined();
  });

  it('passes other listing errors on', async () => {
    const host = new FindmntHostInfo(new ScriptedRunner({ strict: true }));
    await expect(host.listDirectory('\0')).rejects.toThrow();
  });

  it('reads the file system type with findmnt -n -o FSTYPE --target', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['findmnt'], { stdout: 'vfat\n' });
    expect(await new FindmntHostInfo(runner).filesystemType('/boot/efi')).toBe('vfat');
    expect(runner.commandLines).toEqual(['findmnt -n -o FSTYPE --target /boot/efi']);
    expect(runner.calls[0]!.mutates).toBe(false);
  });

  it('gives no file system type when findmnt fails, is missing or prints nothing', async () => {
    const failing = new ScriptedRunner().on(['findmnt'], { exitCode: 1 });
    expect(await new FindmntHostInfo(failing).filesystemType('/nope')).toBeUndefined();
    const silent = new ScriptedRunner().on(['findmnt'], { stdout: '\n' });
    expect(await new FindmntHostInfo(silent).filesystemType('/x')).toBeUndefined();
    const missing: CommandRunner = {
      run: async () => {
        throw new CommandNotFoundError('findmnt');
      },
    };
    expect(await new FindmntHostInfo(missing).filesystemType('/x')).toBeUndefined();
  });

  it('passes a cancellation on', async () => {
    const runner: CommandRunner = {
      run: async () => {
        throw new CancelledError('findmnt');
      },
    };
    await expect(new FindmntHostInfo(runner).filesystemType('/x')).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('parseFindmnt', () => {
  it('takes the last of stacked mounts (the visible one)', () => {
    const json = JSON.stringify({
      filesystems: [
        { source: '/dev/vda', 'maj:min': '254:0' },
        { source: 'overlay', 'maj:min': '0:45' },
      ],
    });
    expect(parseFindmnt(json)).toEqual({ source: 'overlay', device: { major: 0, minor: 45 } });
  });

  it('leaves the device undefined when findmnt gives no numbers', () => {
    expect(parseFindmnt('{"filesystems":[{"source":"rootfs","maj:min":null}]}')).toEqual({
      source: 'rootfs',
      device: undefined,
    });
  });

  it('rejects output that is not what findmnt prints', () => {
    expect(() => parseFindmnt('not json')).toThrow(InternalError);
    expect(() => parseFindmnt('{"filesystems":[]}')).toThrow(InternalError);
    expect(() => parseFindmnt('null')).toThrow(InternalError);
  });
});

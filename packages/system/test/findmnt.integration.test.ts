import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExecaCommandRunner, FindmntHostInfo } from '../src/index.js';

// Linux dev_t encoding (glibc's gnu_dev_major/gnu_dev_minor).
function major(dev: number): number {
  return Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
}
function minor(dev: number): number {
  return Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
}

describe('FindmntHostInfo on this machine', () => {
  const hostInfo = new FindmntHostInfo(new ExecaCommandRunner());

  it('finds the root file system, with the device numbers that stat(/) reports', async () => {
    const root = await hostInfo.mountedRoot();
    expect(root.source).not.toBe('');
    const dev = statSync('/').dev;
    expect(root.device).toEqual({ major: major(dev), minor: minor(dev) });
  });

  it('finds the file system that holds a path', async () => {
    const mount = await hostInfo.deviceOfMount('/proc/self');
    expect(mount.source).toBe('proc');
  });

  it('tells the type of the file system holding a path, and nothing for a path that is not there', async () => {
    expect(await hostInfo.filesystemType('/proc/self')).toBe('proc');
    expect(await hostInfo.filesystemType('/sys/kernel')).toBe('sysfs');
    expect(await hostInfo.filesystemType('/no/such/path')).toBeUndefined();
  });

  it('gives the running kernel that uname -r prints', async () => {
    expect(await hostInfo.runningKernel()).toBe(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
  });

  it('lists /proc as the kernel does, and a missing directory as empty', async () => {
    const listed = await hostInfo.listDirectory('/proc/sys');
    expect(listed.sort()).toEqual(readdirSync('/proc/sys').sort());
    expect(listed).toContain('kernel');
    expect(await hostInfo.listDirectory('/no/such/dir')).toEqual([]);
  });
});

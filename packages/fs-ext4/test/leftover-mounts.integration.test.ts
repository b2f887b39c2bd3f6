import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CommandResult } from '@imgbased/core';
import { ExecaCommandRunner } from '@imgbased/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ext4Driver } from '../src/index.js';

// A read-only mount left by a killed imgbased, on a real loop device: found, and released, so that the
// device is free again (for lvremove, on a real host). Needs root.
const runner = new ExecaCommandRunner();
const driver = new Ext4Driver(runner);

function tool(argv: string[], okExitCodes: number[] = [0]): Promise<CommandResult> {
  return runner.run({ argv, mutates: false, okExitCodes });
}

let work: string;
let loop: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-leftover-it-'));
  const file = join(work, 'fs.img');
  await writeFile(file, '');
  await truncate(file, 32 * 1024 ** 2);
  loop = (await tool(['losetup', '--find', '--show', file])).stdout.trim();
  await tool(['mkfs.ext4', '-q', loop]);
});
afterAll(async () => {
  const mounts = await tool(['findmnt', '-rn', '-o', 'TARGET', '--source', loop], [0, 1]);
  for (const target of mounts.stdout.split('\n').filter(Boolean)) await tool(['umount', '-l', target], [0, 32]);
  await tool(['losetup', '-d', loop], [0, 1]);
  await rm(work, { recursive: true, force: true });
});

describe('leftover mounts, for real', () => {
  it('finds the read-only mount of a dead process, unmounts it and removes its directories', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const directory = join(work, `imgbased-mnt-${dead}-K1lled`, 'root');
    await mkdir(directory, { recursive: true });
    await tool(['mount', '-t', 'ext4', '-o', 'ro', loop, directory]);
    // While mounted the device cannot be taken exclusively (as lvremove needs it).
    expect((await tool(['findmnt', '-rn', '-o', 'TARGET', '--source', loop], [0, 1])).stdout.trim()).toBe(directory);

    const found = await driver.leftoverMounts();
    expect(found).toContainEqual({ directory, source: loop });
    // A live process's mount (this one's) is not a leftover.
    const live = await driver.withMounted(loop, { readOnly: true }, async (dir) => {
      const during = await driver.leftoverMounts();
      return { dir, listed: during.some((m) => m.directory === dir) };
    });
    expect(live.listed).toBe(false);

    await driver.releaseMount({ directory, source: loop });
    expect((await tool(['findmnt', '-rn', '-o', 'TARGET', '--source', loop], [0, 1])).stdout.trim()).toBe('');
    expect(existsSync(dirname(directory))).toBe(false);
    expect((await driver.leftoverMounts()).some((m) => m.source === loop)).toBe(false);
  });
});

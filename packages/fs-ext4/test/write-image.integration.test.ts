import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { CommandResult } from '@imgbased/core';
import { ExecaCommandRunner } from '@imgbased/system';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Ext4Driver } from '../src/index.js';

// writeImage on real images and loop devices (a sparse file stands in for a thin volume): needs root.
const MiB = 1024 ** 2;
const runner = new ExecaCommandRunner();
const driver = new Ext4Driver(runner);

function tool(argv: string[], okExitCodes: number[] = [0]): Promise<CommandResult> {
  return runner.run({ argv, mutates: false, okExitCodes });
}

let work: string;
let loops: string[] = [];
/** The image: 96 MiB, its files, and the bytes its bitmaps mark in use. */
let image: { file: string; files: Map<string, string>; usedBytes: number };

async function loopDevice(file: string): Promise<string> {
  const loop = (await tool(['losetup', '--find', '--show', file])).stdout.trim();
  loops.push(loop);
  return loop;
}
async function detach(loop: string): Promise<void> {
  await tool(['losetup', '-d', loop]);
  loops = loops.filter((l) => l !== loop);
}
async function sparseFile(name: string, size: number): Promise<string> {
  const file = join(work, name);
  await writeFile(file, '');
  await truncate(file, size);
  return file;
}

/** sha256 of every regular file, and the target of every link, by path. */
async function digests(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const name = relative(root, path);
    if (name.startsWith('lost+found')) continue;
    if (entry.isFile())
      found.set(
        name,
        createHash('sha256')
          .update(await readFile(path))
          .digest('hex'),
      );
    else if (entry.isSymbolicLink()) found.set(name, `-> ${(await stat(path)).size}`);
  }
  return found;
}

function field(dumpe2fs: string, name: string): number {
  return Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(dumpe2fs)![1]);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-write-image-it-'));
  const file = await sparseFile('image.ext4', 96 * MiB);
  await tool(['mkfs.ext4', '-q', '-F', '-L', 'base-image', file]);
  const loop = await loopDevice(file);
  const files = await driver.withMounted(loop, { readOnly: false }, async (dir) => {
    // A deleted file leaves its data in free blocks: the copy must skip them.
    await writeFile(join(dir, 'deleted'), Buffer.alloc(24 * MiB, 0x5a));
    await tool(['sync']);
    await rm(join(dir, 'deleted'));
    for (let d = 0; d < 20; d++) {
      await mkdir(join(dir, 'usr', `d${d}`), { recursive: true });
      for (let f = 0; f < 50; f++) {
        await writeFile(join(dir, 'usr', `d${d}`, `f${f}`), `file ${d}/${f} `.repeat(100 + d * 37 + f * 11));
      }
    }
    const big = Buffer.alloc(20 * MiB);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i ^ 0x9e3779b9) >>> 0, i);
    await writeFile(join(dir, 'big'), big);
    await writeFile(join(dir, 'sparse'), '');
    await truncate(join(dir, 'sparse'), 8 * MiB);
    await writeFile(join(dir, 'sparse'), 'end', { flag: 'r+' });
    await symlink('usr/d1/f1', join(dir, 'link'));
    return digests(dir);
  });
  await detach(loop);
  const header = (await tool(['dumpe2fs', '-h', file])).stdout;
  const usedBytes = (field(header, 'Block count') - field(header, 'Free blocks')) * field(header, 'Block size');
  image = { file, files, usedBytes };
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
afterEach(async () => {
  for (const loop of loops.reverse()) await tool(['losetup', '-d', loop], [0, 1]);
  loops = [];
});

/** Writes the image onto a new sparse device of `size`; what the device's backing file then takes. */
async function install(name: string, size: number): Promise<{ loop: string; allocated: number }> {
  const backing = await sparseFile(name, size);
  const loop = await loopDevice(backing);
  await driver.writeImage(image.file, loop);
  await tool(['sync']);
  return { loop, allocated: (await stat(backing)).blocks * 512 };
}

describe('Ext4Driver.writeImage on real images', () => {
  it('gives a device of the same size a clean file system with the same files, writing the blocks in use only', async () => {
    const { loop, allocated } = await install('same-size.dev', 96 * MiB);
    expect((await tool(['e2fsck', '-f', '-n', loop], [0, 1, 4, 8])).exitCode).toBe(0);
    expect(await driver.probe(loop)).toMatchObject({ type: 'ext4', label: 'base-image' });
    const files = await driver.withMounted(loop, { readOnly: true }, digests);
    expect(files).toEqual(image.files);
    expect(files.size).toBeGreaterThan(1000);
    // The deleted file's 24 MiB stay unwritten (cp --sparse would copy them: they are not zeros).
    expect(allocated).toBeLessThanOrEqual(image.usedBytes + MiB);
    expect(allocated).toBeGreaterThan(image.usedBytes / 2);
  });

  it('grows the file system onto a larger device, clean, with the same files, the device still thin', async () => {
    const { loop, allocated } = await install('larger.dev', 512 * MiB);
    expect((await tool(['e2fsck', '-f', '-n', loop], [0, 1, 4, 8])).exitCode).toBe(0);
    const header = (await tool(['dumpe2fs', '-h', loop])).stdout;
    expect(field(header, 'Block count') * field(header, 'Block size')).toBe(512 * MiB);
    expect(await driver.withMounted(loop, { readOnly: true }, digests)).toEqual(image.files);
    // resize2fs writes the new groups' metadata: a few MiB, not the device.
    expect(allocated).toBeLessThan(image.usedBytes + 32 * MiB);
  });
});

describe('Ext4Driver.checkImage on real images', () => {
  it('passes a clean image and refuses one whose bitmap frees a block in use (the copy would skip it)', async () => {
    await expect(driver.checkImage(image.file)).resolves.toBeUndefined();
    const damaged = join(work, 'damaged.ext4');
    await tool(['cp', '--sparse=always', image.file, damaged]);
    // The root directory's first block, marked free: a copy that trusts the bitmap would leave it out.
    const rootBlock = /\((?:0)\):(\d+)/.exec((await tool(['debugfs', '-R', 'stat /', damaged])).stdout)?.[1];
    expect(rootBlock).toBeDefined();
    await tool(['debugfs', '-w', '-R', `freeb ${rootBlock}`, damaged]);
    await expect(driver.checkImage(damaged)).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
      message: expect.stringContaining('e2fsck -n finds its file system damaged'),
    });
  });
});

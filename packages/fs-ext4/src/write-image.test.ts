import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EngineEvent, ImageInvalidError } from '@imgbased/core';
import { ScriptedRunner } from '@imgbased/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ext4Driver } from './ext4-driver.js';

// A file stands in for the device: the copy is plain file I/O, only the tools are scripted.
const KiB = 1024;
const BLOCK = 4 * KiB;
const BLOCKS = 64;
let work: string;
let image: string;
let imageBytes: Buffer;

/** dumpe2fs of a 64-block file system whose blocks 8-39 and 50-63 are free. */
const dumpe2fs = (blockCount = BLOCKS) => ({
  stdout:
    `Block count:              ${blockCount}\nBlock size:               ${BLOCK}\nFree blocks:              46\n\n` +
    'Group 0: (Blocks 0-63)\n  Free blocks: 8-39, 50-63\n  Free inodes: 12-64\n',
});

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-write-image-'));
  image = join(work, 'image.ext4');
  imageBytes = Buffer.alloc(BLOCKS * BLOCK);
  for (let i = 0; i < imageBytes.length; i++) imageBytes[i] = (i * 7 + (i >> 12)) & 0xff;
  await writeFile(image, imageBytes);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A stand-in device of `blocks` blocks, every byte 0xee: what the copy leaves unwritten keeps it. */
async function device(name: string, blocks: number): Promise<string> {
  const file = join(work, name);
  await writeFile(file, Buffer.alloc(blocks * BLOCK, 0xee));
  return file;
}

const blocksOf = (buffer: Buffer, first: number, end: number) => buffer.subarray(first * BLOCK, end * BLOCK);

describe('Ext4Driver.writeImage', () => {
  it('copies the blocks in use only, to the same offsets, and leaves a device of the same size as it is', async () => {
    const target = await device('same-size', BLOCKS);
    const runner = new ScriptedRunner({ strict: true })
      .on(['dumpe2fs'], dumpe2fs())
      .on(['blockdev'], { stdout: `${BLOCKS * BLOCK}\n` });
    await new Ext4Driver(runner).writeImage(image, target);
    expect(runner.commandLines).toEqual([`dumpe2fs ${image}`, `blockdev --getsize64 ${target}`]);
    const written = await readFile(target);
    expect(blocksOf(written, 0, 8).equals(blocksOf(imageBytes, 0, 8))).toBe(true);
    expect(blocksOf(written, 40, 50).equals(blocksOf(imageBytes, 40, 50))).toBe(true);
    expect(blocksOf(written, 8, 40).every((b) => b === 0xee)).toBe(true);
    expect(blocksOf(written, 50, 64).every((b) => b === 0xee)).toBe(true);
  });

  it('grows the file system on a larger device, after the full check resize2fs needs', async () => {
    const target = await device('larger', BLOCKS * 2);
    const runner = new ScriptedRunner({ strict: true })
      .on(['dumpe2fs'], dumpe2fs())
      .on(['blockdev'], { stdout: `${BLOCKS * 2 * BLOCK}\n` })
      .on(['e2fsck'], {})
      .on(['resize2fs'], {});
    await new Ext4Driver(runner).writeImage(image, target);
    expect(runner.calls.slice(2)).toEqual([
      { argv: ['e2fsck', '-f', '-y', target], mutates: true, okExitCodes: [0, 1] },
      { argv: ['resize2fs', target], mutates: true },
    ]);
    expect(blocksOf(await readFile(target), 40, 50).equals(blocksOf(imageBytes, 40, 50))).toBe(true);
  });

  it('refuses an image whose file system is larger than the device, writing nothing', async () => {
    const target = await device('smaller', BLOCKS / 2);
    const runner = new ScriptedRunner({ strict: true })
      .on(['dumpe2fs'], dumpe2fs())
      .on(['blockdev'], { stdout: `${(BLOCKS / 2) * BLOCK}\n` });
    const error = await new Ext4Driver(runner).writeImage(image, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageInvalidError);
    expect((error as Error).message).toContain(`is larger than ${target}`);
    expect((await readFile(target)).every((b) => b === 0xee)).toBe(true);
  });

  it('refuses an image file shorter than its file system', async () => {
    const target = await device('short-image', BLOCKS * 2);
    const runner = new ScriptedRunner({ strict: true })
      .on(['dumpe2fs'], dumpe2fs(BLOCKS * 2))
      .on(['blockdev'], { stdout: `${BLOCKS * 2 * BLOCK}\n` });
    // Blocks 64-127 are in use by this superblock but not in the file.
    await expect(new Ext4Driver(runner).writeImage(image, target)).rejects.toMatchObject({ code: 'E_IMAGE_INVALID' });
  });

  it('refuses what dumpe2fs cannot describe', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['dumpe2fs'], { stdout: 'Block size: 4096\n' });
    await expect(new Ext4Driver(runner).writeImage(image, '/dev/vg/base')).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
    });
  });

  it('stops when the operation is cancelled', async () => {
    const target = await device('cancelled', BLOCKS);
    const runner = new ScriptedRunner({ strict: true })
      .on(['dumpe2fs'], dumpe2fs())
      .on(['blockdev'], { stdout: `${BLOCKS * BLOCK}\n` });
    const context = { signal: AbortSignal.abort() };
    await expect(new Ext4Driver(runner).writeImage(image, target, context)).rejects.toMatchObject({
      code: 'E_CANCELLED',
    });
  });

  it('in a dry run, reports the copy and plans the growth without looking at a device that may not exist yet', async () => {
    const events: EngineEvent[] = [];
    const runner = new ScriptedRunner({ strict: true });
    await new Ext4Driver(runner).writeImage('/x.img', '/dev/vg/base', { dryRun: true, report: (e) => events.push(e) });
    expect(runner.commandLines).toEqual(['e2fsck -f -y /dev/vg/base', 'resize2fs /dev/vg/base']);
    expect(events).toContainEqual({
      type: 'step',
      step: 'copy-blocks',
      message: 'Copying the blocks in use of /x.img to /dev/vg/base',
    });
  });
});

describe('Ext4Driver.checkImage', () => {
  it('runs e2fsck read-only and names its first complaint when the image is damaged', async () => {
    const clean = new ScriptedRunner({ strict: true }).on(['e2fsck', '-f', '-n'], {
      stdout: 'Pass 1: Checking inodes\n',
    });
    await expect(new Ext4Driver(clean).checkImage('/x.img')).resolves.toBeUndefined();
    const damaged = new ScriptedRunner({ strict: true }).on(['e2fsck', '-f', '-n'], {
      exitCode: 4,
      stdout: 'Pass 1: Checking inodes\nPass 5: Checking group summary information\nBlock bitmap differences:  +1234\n',
    });
    await expect(new Ext4Driver(damaged).checkImage('/x.img')).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
      message: expect.stringContaining('Block bitmap differences:  +1234'),
    });
  });
});

import { mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CommandResult, EngineEvent } from '@imgbased/core';
import { ExecaCommandRunner } from '@imgbased/system';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Ext4Driver } from '../src/index.js';

// Real e2fsprogs and util-linux on real loop devices: needs root.
const MiB = 1024 ** 2;
const runner = new ExecaCommandRunner();
const driver = new Ext4Driver(runner);

/** Runs a tool directly (not through the driver under test). */
function tool(argv: string[], okExitCodes: number[] = [0]): Promise<CommandResult> {
  return runner.run({ argv, mutates: false, okExitCodes });
}

let work: string;
let loops: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-ext4-it-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
afterEach(async () => {
  // Whatever a test left: unmount what is on its loop devices, then detach them.
  for (const loop of loops.reverse()) {
    const mounts = await tool(['findmnt', '-rn', '-o', 'TARGET', '--source', loop], [0, 1]);
    for (const target of mounts.stdout.split('\n').filter(Boolean)) {
      await tool(['umount', '-l', target], [0, 32]);
    }
    await tool(['losetup', '-d', loop], [0, 1]);
  }
  loops = [];
});

/** A sparse backing file of `size` bytes on a new loop device. */
async function loopDevice(name: string, size: number): Promise<{ loop: string; file: string }> {
  const file = join(work, `${name}.img`);
  await writeFile(file, '');
  await truncate(file, size);
  const loop = (await tool(['losetup', '--find', '--show', file])).stdout.trim();
  expect(loop).toMatch(/^\/dev\/loop\d+$/);
  loops.push(loop);
  return { loop, file };
}

async function blkid(device: string, tag: string): Promise<string> {
  return (await tool(['blkid', '-p', '-o', 'value', '-s', tag, device])).stdout.trim();
}

async function fileSystemBytes(device: string): Promise<number> {
  const out = (await tool(['dumpe2fs', '-h', device])).stdout;
  return Number(/^Block count:\s+(\d+)/m.exec(out)![1]) * Number(/^Block size:\s+(\d+)/m.exec(out)![1]);
}

async function isMounted(directory: string): Promise<boolean> {
  return (await tool(['findmnt', '--mountpoint', directory], [0, 1])).exitCode === 0;
}

/** Bytes the backing file really takes on disk. */
async function allocated(file: string): Promise<number> {
  return (await stat(file)).blocks * 512;
}

describe('Ext4Driver on loop devices', () => {
  it('creates ext4 with a label, as blkid sees it, and probes it', async () => {
    const { loop } = await loopDevice('create', 64 * MiB);
    expect(await driver.probe(loop)).toBeUndefined();
    await driver.create(loop, { label: 'imgbased-test' });
    expect(await blkid(loop, 'TYPE')).toBe('ext4');
    expect(await blkid(loop, 'LABEL')).toBe('imgbased-test');
    expect(await driver.probe(loop)).toEqual({
      type: 'ext4',
      uuid: await blkid(loop, 'UUID'),
      label: 'imgbased-test',
    });
  });

  it('writes through a read-write mount, and the file is there after mounting again read-only', async () => {
    const { loop } = await loopDevice('mount', 64 * MiB);
    await driver.create(loop, {});
    let first = '';
    await driver.withMounted(loop, { readOnly: false }, async (dir) => {
      first = dir;
      expect(await isMounted(dir)).toBe(true);
      expect((await stat(dirname(dir))).mode & 0o777).toBe(0o700);
      await writeFile(join(dir, 'hello.txt'), 'hello from imgbased\n');
    });
    expect(await isMounted(first)).toBe(false);
    await expect(stat(dirname(first))).rejects.toMatchObject({ code: 'ENOENT' });

    const text = await driver.withMounted(loop, { readOnly: true }, async (dir) => {
      await expect(writeFile(join(dir, 'other'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
      return readFile(join(dir, 'hello.txt'), 'utf8');
    });
    expect(text).toBe('hello from imgbased\n');
  });

  it('gives a copy its own UUID, and the file system still checks clean', async () => {
    const { loop } = await loopDevice('uuid', 64 * MiB);
    await driver.create(loop, { label: 'copy' });
    const before = await blkid(loop, 'UUID');
    await driver.regenerateUuid(loop);
    const after = await blkid(loop, 'UUID');
    expect(after).toMatch(/^[0-9a-f-]{36}$/);
    expect(after).not.toBe(before);
    expect(await blkid(loop, 'LABEL')).toBe('copy');
    expect((await tool(['e2fsck', '-fn', loop], [0, 1, 2, 4, 8])).exitCode).toBe(0);
  });

  it('grows the file system after its device grew, and shrinks it to a given size', async () => {
    const { loop, file } = await loopDevice('resize', 64 * MiB);
    await driver.create(loop, {});
    expect(await fileSystemBytes(loop)).toBe(64 * MiB);
    await truncate(file, 128 * MiB);
    await tool(['losetup', '-c', loop]);
    await driver.resize(loop, undefined);
    expect(await fileSystemBytes(loop)).toBe(128 * MiB);
    await driver.resize(loop, 96 * MiB);
    expect(await fileSystemBytes(loop)).toBe(96 * MiB);
    expect((await tool(['e2fsck', '-fn', loop], [0, 1, 2, 4, 8])).exitCode).toBe(0);
  });

  it('unmounts and removes its directory when use fails', async () => {
    const { loop } = await loopDevice('failing', 64 * MiB);
    await driver.create(loop, {});
    let seen = '';
    const error = await driver
      .withMounted(loop, { readOnly: false }, async (dir) => {
        seen = dir;
        await writeFile(join(dir, 'partial'), 'x');
        throw new Error('use failed halfway');
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('use failed halfway');
    expect(seen).not.toBe('');
    expect(await isMounted(seen)).toBe(false);
    expect((await tool(['findmnt', '--source', loop], [0, 1])).exitCode).toBe(1);
    await expect(stat(dirname(seen))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('detaches a file system that stays busy lazily, with a warning, and removes the directory', async () => {
    const { loop } = await loopDevice('busy', 64 * MiB);
    await driver.create(loop, {});
    const events: EngineEvent[] = [];
    let seen = '';
    const handle = await driver.withMounted(
      loop,
      { readOnly: false },
      async (dir) => {
        seen = dir;
        return open(join(dir, 'held-open'), 'w'); // keeps the file system busy
      },
      { report: (event) => events.push(event) },
    );
    try {
      expect(events.filter((e) => e.type === 'warning')).toEqual([
        { type: 'warning', message: expect.stringContaining('detached lazily') },
      ]);
      expect(await isMounted(seen)).toBe(false);
      await expect(stat(dirname(seen))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await handle.close();
    }
  });

  it('gives freed blocks back with fstrim on a mounted file system', async () => {
    const { loop, file } = await loopDevice('trim', 128 * MiB);
    await driver.create(loop, {});
    const empty = await allocated(file);
    await driver.withMounted(loop, { readOnly: false }, async (dir) => {
      await writeFile(join(dir, 'big'), Buffer.alloc(48 * MiB, 1));
      await tool(['sync']);
      expect(await allocated(file)).toBeGreaterThan(empty + 40 * MiB);
      await rm(join(dir, 'big'));
      await tool(['sync']);
      await driver.trim(dir);
    });
    expect(await allocated(file)).toBeLessThan(empty + 8 * MiB);
  });

  it('writes an image onto a larger device, keeping it sparse, and grows it to fill the device', async () => {
    const image = await loopDevice('image', 32 * MiB);
    await driver.create(image.loop, { label: 'base-image' });
    await driver.withMounted(image.loop, { readOnly: false }, async (dir) => {
      await writeFile(join(dir, 'payload'), Buffer.alloc(4 * MiB, 7));
    });
    await tool(['losetup', '-d', image.loop]);
    loops = loops.filter((l) => l !== image.loop);

    const target = await loopDevice('target', 256 * MiB);
    await driver.writeImage(image.file, target.loop);
    expect(await blkid(target.loop, 'LABEL')).toBe('base-image');
    expect(await fileSystemBytes(target.loop)).toBe(256 * MiB);
    expect(await allocated(target.file)).toBeLessThan(64 * MiB);
    const payload = await driver.withMounted(target.loop, { readOnly: true }, (dir) => readFile(join(dir, 'payload')));
    expect(payload.equals(Buffer.alloc(4 * MiB, 7))).toBe(true);
  });

  it('refuses an image that does not fit the device', async () => {
    const image = join(work, 'too-big.img');
    await writeFile(image, '');
    await truncate(image, 64 * MiB);
    await tool(['mkfs.ext4', '-q', '-F', image]);
    const { loop } = await loopDevice('small', 32 * MiB);
    await expect(driver.writeImage(image, loop)).rejects.toMatchObject({ code: 'E_IMAGE_INVALID' });
    expect(await driver.probe(loop)).toBeUndefined();
  });

  it('leaves nothing mounted under its mount directories', async () => {
    const left = (await readdir(tmpdir())).filter((n) => n.startsWith('imgbased-mnt-'));
    for (const name of left) expect(await isMounted(join(tmpdir(), name, 'root'))).toBe(false);
  });
});

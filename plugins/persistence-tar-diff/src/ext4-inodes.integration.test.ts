// The inode comparison on real ext4 (loop devices): an image and its block-level copy, the copy
// changed while mounted (as the running layer is), the differing 64 KiB chunks standing in for what
// thin_delta reports. Needs root.
import { chmod, link, lstat, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { put, Scratch, tool } from '@imgbased/system/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedInodes } from './ext4-inodes.js';
import { namesOfInodes } from './ext4-names.js';
import type { ByteRanges } from './thin-delta.js';

const CHUNK = 64 * 1024;
let scratch: Scratch;
let baseImage: string;
let layerLoop: string;
let layer: string;
const before = new Map<string, number>();

/** The 64 KiB chunks in which two devices differ (what thin_delta would say, at the pool's chunk size). */
async function differingChunks(a: string, b: string): Promise<ByteRanges> {
  const [x, y] = [await open(a, 'r'), await open(b, 'r')];
  try {
    const ranges: [number, number][] = [];
    const bx = Buffer.alloc(CHUNK);
    const by = Buffer.alloc(CHUNK);
    for (let at = 0; ; at += CHUNK) {
      const rx = await x.read(bx, 0, CHUNK, at);
      await y.read(by, 0, CHUNK, at);
      if (rx.bytesRead === 0) return ranges;
      if (!bx.equals(by)) ranges.push([at, at + CHUNK]);
    }
  } finally {
    await x.close();
    await y.close();
  }
}

const ino = async (root: string, p: string) => (await lstat(join(root, p))).ino;

beforeAll(async () => {
  scratch = await Scratch.create();
  baseImage = await scratch.image('base', 64 * 1024 * 1024);
  const base = await scratch.mount(baseImage);
  for (let i = 0; i < 400; i++) await put(base, `etc/d${i % 8}/f${i}`, `file ${i}\n`);
  for (let i = 0; i < 400; i++) before.set(`etc/d${i % 8}/f${i}`, await ino(base, `etc/d${i % 8}/f${i}`));
  await scratch.umount(base);
  layer = await scratch.mount(await scratch.clone(baseImage, 'layer'));
  layerLoop = scratch.loops.at(-1)!;
});
afterAll(() => scratch?.remove());

describe('changedInodes', () => {
  it('finds exactly the inodes of what changed, not those only read', async () => {
    await writeFile(join(layer, 'etc/d1/f1'), 'edited\n');
    await chmod(join(layer, 'etc/d2/f2'), 0o600);
    await tool(['setfattr', '-n', 'user.note', '-v', 'x', join(layer, 'etc/d3/f3')]);
    await rename(join(layer, 'etc/d4/f4'), join(layer, 'etc/d4/f4-renamed'));
    await link(join(layer, 'etc/d5/f5'), join(layer, 'etc/d6/f5-link'));
    await rm(join(layer, 'etc/d6/f6'));
    await writeFile(join(layer, 'etc/d7/f7'), 'file 7\n'); // the same content again
    await mkdir(join(layer, 'etc/new'));
    await writeFile(join(layer, 'etc/new/file'), 'new\n');
    // Read, not changed: relatime sets their atime (created files' atime is not after their mtime).
    for (const i of [10, 11, 12]) await readFile(join(layer, `etc/d${i % 8}/f${i}`));
    await tool(['sync', '-f', layer]);

    const changed = await changedInodes(baseImage, layerLoop, await differingChunks(baseImage, layerLoop));
    if (typeof changed === 'string') throw new Error(changed);
    const expected = [
      ...['etc/d1/f1', 'etc/d2/f2', 'etc/d3/f3', 'etc/d4/f4', 'etc/d5/f5', 'etc/d6/f6', 'etc/d7/f7'].map(
        (p) => before.get(p)!,
      ),
      await ino(layer, 'etc/new'),
      await ino(layer, 'etc/new/file'),
      // The directories whose entries changed.
      ...(await Promise.all(['etc', 'etc/d4', 'etc/d6'].map((p) => ino(layer, p)))),
    ];
    for (const i of expected) expect(changed, `inode ${i}`).toContain(i);
    for (const i of [0, 8, 9, 10, 11, 12, 13, 399]) expect(changed).not.toContain(before.get(`etc/d${i % 8}/f${i}`));
    // Nothing else but those (and ext4's own: the journal, the root's lost+found stay out of it).
    const others = [...changed].filter((i) => !expected.includes(i) && i >= 11);
    expect(others).toEqual([]);
  });

  it('names every name of changed inodes from ext4 itself, hard links and directories too', async () => {
    const changed = await changedInodes(baseImage, layerLoop, await differingChunks(baseImage, layerLoop));
    if (typeof changed === 'string') throw new Error(changed);
    const inLayer = await namesOfInodes(layerLoop, changed);
    if (typeof inLayer === 'string') throw new Error(inLayer);
    const names = (m: Map<string, { ino: number }>) => new Map([...m].map(([p, n]) => [p, n.ino]));
    // What find says of the same inodes in the mounted layer (names under / only: no lost+found change).
    const listed = (await tool(['find', layer, '-xdev', '-printf', '%i %P\\n'])).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => [`/${l.slice(l.indexOf(' ') + 1)}`.replace(/\/$/, ''), Number(l.slice(0, l.indexOf(' ')))] as const)
      .filter(([, i]) => changed.has(i));
    expect(names(inLayer)).toEqual(new Map(listed.map(([p, i]) => [p || '/', i])));
    expect(inLayer.get('/etc/d5/f5')).toEqual(inLayer.get('/etc/d6/f5-link'));
    expect(inLayer.get('/etc/new')?.type).toBe('d');
    // The base: the names the layer's changes took away (deleted, renamed) are there.
    const inBase = await namesOfInodes(baseImage, changed);
    if (typeof inBase === 'string') throw new Error(inBase);
    expect(inBase.get('/etc/d6/f6')?.ino).toBe(before.get('etc/d6/f6'));
    expect(inBase.get('/etc/d4/f4')?.ino).toBe(before.get('etc/d4/f4'));
    expect(inBase.has('/etc/new')).toBe(false);
  });

  it('says why when a device holds no ext4', async () => {
    const empty = join(scratch.work, 'empty.img');
    await writeFile(empty, Buffer.alloc(8192));
    expect(await changedInodes(empty, empty, [])).toBe(`${empty}: no ext2/3/4 file system`);
    expect(await namesOfInodes(empty, [12])).toBe(`${empty}: no ext2/3/4 file system`);
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRanges } from './copy-ranges.js';

const KiB = 1024;
let work: string;
let source: string;
const bytes = Buffer.alloc(1024 * KiB);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-copy-ranges-'));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 10)) & 0xff;
  source = join(work, 'source');
  await writeFile(source, bytes);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function copyTo(name: string, ranges: { start: number; end: number }[], chunkBytes = 64 * KiB) {
  const target = join(work, name);
  await writeFile(target, Buffer.alloc(bytes.length, 0xee));
  const outcome = await copyRanges(source, target, ranges, { chunkBytes });
  return { outcome, written: await readFile(target) };
}

describe('copyRanges', () => {
  it('copies the ranges, in chunks, to the same offsets and nothing else', async () => {
    const ranges = [
      { start: 0, end: 200 * KiB },
      { start: 512 * KiB, end: 516 * KiB },
    ];
    const { outcome, written } = await copyTo('aligned', ranges);
    expect(outcome.bytes).toBe(204 * KiB);
    expect(written.subarray(0, 200 * KiB).equals(bytes.subarray(0, 200 * KiB))).toBe(true);
    expect(written.subarray(512 * KiB, 516 * KiB).equals(bytes.subarray(512 * KiB, 516 * KiB))).toBe(true);
    expect(written.subarray(200 * KiB, 512 * KiB).every((b) => b === 0xee)).toBe(true);
    expect(written.subarray(516 * KiB).every((b) => b === 0xee)).toBe(true);
  });

  it('goes through the page cache when a write is refused past it (not on sector boundaries)', async () => {
    const { outcome, written } = await copyTo('unaligned', [
      { start: 4 * KiB, end: 12 * KiB },
      { start: 100 * KiB + 1, end: 300 * KiB - 3 },
    ]);
    expect(outcome.direct).toBe(false);
    expect(written.subarray(4 * KiB, 12 * KiB).equals(bytes.subarray(4 * KiB, 12 * KiB))).toBe(true);
    expect(written.subarray(100 * KiB + 1, 300 * KiB - 3).equals(bytes.subarray(100 * KiB + 1, 300 * KiB - 3))).toBe(
      true,
    );
    expect(written[100 * KiB]).toBe(0xee);
    expect(written[300 * KiB - 3]).toBe(0xee);
  });
});

import { describe, expect, it } from 'vitest';
import { joinNearRanges, parseUsedBlocks, totalBytes } from './used-blocks.js';

const header =
  'Free blocks:              40\nBlock count:              64\nFirst block:              0\nBlock size:               4096\n';
const group = (n: number, free: string) =>
  `Group ${n}: (Blocks ${n * 32}-${n * 32 + 31}) csum 0x1234\n  Block bitmap at 2 (+2)\n  Free blocks: ${free}\n  Free inodes: 12-64\n`;

describe('parseUsedBlocks', () => {
  it('gives every block no group lists free as in use, in bytes, block 0 included', () => {
    const blocks = parseUsedBlocks(`${header}\n${group(0, '8-20, 25')}${group(1, '32-40, 60-63')}`);
    expect(blocks).toEqual({
      blockSize: 4096,
      blockCount: 64,
      used: [
        { start: 0, end: 8 * 4096 },
        { start: 21 * 4096, end: 25 * 4096 },
        { start: 26 * 4096, end: 32 * 4096 },
        { start: 41 * 4096, end: 60 * 4096 },
      ],
    });
    expect(totalBytes(blocks!.used)).toBe((64 - 13 - 1 - 9 - 4) * 4096);
  });

  it('reads a group without free blocks (an empty list) and a last block in use', () => {
    const blocks = parseUsedBlocks(`${header}\n${group(0, '')}${group(1, '40-50')}`);
    expect(blocks?.used).toEqual([
      { start: 0, end: 40 * 4096 },
      { start: 51 * 4096, end: 64 * 4096 },
    ]);
  });

  it('refuses output without the superblock fields, or with a list it cannot read or out of bounds', () => {
    expect(parseUsedBlocks(group(0, '1-2'))).toBeUndefined();
    expect(parseUsedBlocks(`${header}${group(0, '8-x')}`)).toBeUndefined();
    expect(parseUsedBlocks(`${header}${group(0, '20-8')}`)).toBeUndefined();
    expect(parseUsedBlocks(`${header}${group(0, '60-64')}`)).toBeUndefined();
  });
});

describe('joinNearRanges', () => {
  it('joins ranges whose gap is at most the given bytes, and keeps the others apart', () => {
    const ranges = [
      { start: 0, end: 10 },
      { start: 14, end: 20 },
      { start: 30, end: 40 },
    ];
    expect(joinNearRanges(ranges, 4)).toEqual([
      { start: 0, end: 20 },
      { start: 30, end: 40 },
    ]);
    expect(joinNearRanges(ranges, 3)).toEqual(ranges);
  });
});

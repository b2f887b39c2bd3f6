/** A run of bytes, start included, end excluded. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** An ext4 file system's geometry and the bytes its block bitmaps mark in use. */
export interface UsedBlocks {
  readonly blockSize: number;
  readonly blockCount: number;
  /** Sorted, apart, within the file system: every block not listed free in a group's bitmap. */
  readonly used: readonly ByteRange[];
}

/**
 * Reads the output of a full `dumpe2fs` (not `-h`): the superblock's block size and count, and each
 * group's "Free blocks:" list (libext2fs computes the lists of groups whose bitmap is uninitialised).
 * What no group lists free is in use, block 0 included (boot block, or the superblock's block).
 * Returns undefined when the output lacks the superblock fields or a group list is malformed.
 */
export function parseUsedBlocks(dumpe2fs: string): UsedBlocks | undefined {
  const field = (name: string) => {
    const value = new RegExp(`^${name}:\\s+(\\d+)\\s*$`, 'm').exec(dumpe2fs)?.[1];
    return value === undefined ? undefined : Number(value);
  };
  const blockSize = field('Block size');
  const blockCount = field('Block count');
  if (blockSize === undefined || blockCount === undefined) return undefined;

  // Group lines are indented; the superblock's "Free blocks:" (a count) is not.
  const free: Array<[number, number]> = [];
  for (const match of dumpe2fs.matchAll(/^[ \t]+Free blocks:[ \t]*(.*)$/gm)) {
    for (const item of match[1]!.split(',')) {
      const text = item.trim();
      if (text === '') continue;
      const bounds = /^(\d+)(?:-(\d+))?$/.exec(text);
      if (bounds === null) return undefined;
      const first = Number(bounds[1]);
      const last = Number(bounds[2] ?? bounds[1]);
      if (last < first || last >= blockCount) return undefined;
      free.push([first, last + 1]);
    }
  }
  free.sort((a, b) => a[0] - b[0]);

  const used: ByteRange[] = [];
  let next = 0;
  for (const [start, end] of free) {
    if (start > next) used.push({ start: next * blockSize, end: start * blockSize });
    next = Math.max(next, end);
  }
  if (next < blockCount) used.push({ start: next * blockSize, end: blockCount * blockSize });
  return { blockSize, blockCount, used };
}

/**
 * Joins ranges whose gap is at most `gapBytes`: one larger read and write costs less than two
 * small ones, and the unused blocks in between only carry what the image held there.
 */
export function joinNearRanges(ranges: readonly ByteRange[], gapBytes: number): ByteRange[] {
  const joined: ByteRange[] = [];
  for (const range of ranges) {
    const last = joined.at(-1);
    if (last !== undefined && range.start - last.end <= gapBytes) {
      joined[joined.length - 1] = { start: last.start, end: Math.max(last.end, range.end) };
    } else {
      joined.push(range);
    }
  }
  return joined;
}

export function totalBytes(ranges: readonly ByteRange[]): number {
  return ranges.reduce((sum, range) => sum + (range.end - range.start), 0);
}

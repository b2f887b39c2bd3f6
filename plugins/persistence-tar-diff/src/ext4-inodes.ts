import { type FileHandle, open } from 'node:fs/promises';
import { type Ext4Geometry, geometryOf, readAt } from './ext4-reader.js';
import type { ByteRanges } from './thin-delta.js';

const sameGeometry = (a: Ext4Geometry, b: Ext4Geometry) =>
  a.blockSize === b.blockSize &&
  a.inodesPerGroup === b.inodesPerGroup &&
  a.inodeSize === b.inodeSize &&
  a.groups.length === b.groups.length &&
  a.groups.every((g, i) => g.inodeTable === b.groups[i]!.inodeTable);

/**
 * The inodes whose on-disk bytes differ between two devices holding one ext4 file system (a thin volume
 * and its snapshot), looking only where `ranges` say the devices differ: the inode tables' parts in
 * those ranges are read from both and compared inode by inode. A file whose content, metadata, xattrs
 * or names changed has a changed inode (a write sets its mtime and ctime; chmod, chown, setxattr, link,
 * unlink and rename set its ctime), so this is every inode the admin changed, and only those (a file
 * only read is none: see COMPARED).
 * Returns a reason instead when the devices cannot be compared this way.
 */
export async function changedInodes(base: string, layer: string, ranges: ByteRanges): Promise<Set<number> | string> {
  const [a, b] = [await open(base, 'r'), await open(layer, 'r')];
  try {
    const [ga, gb] = [await geometryOf(a), await geometryOf(b)];
    if (typeof ga === 'string') return `${base}: ${ga}`;
    if (typeof gb === 'string') return `${layer}: ${gb}`;
    // A layer grown and resized since (more groups) or otherwise reshaped: compared whole instead.
    if (!sameGeometry(ga, gb)) return 'the two file systems differ in layout';
    const changed = new Set<number>();
    const tableBytes = Math.ceil((ga.inodesPerGroup * ga.inodeSize) / ga.blockSize) * ga.blockSize;
    const groups = ga.groups.map((g, group) => ({ group, start: g.inodeTable * ga.blockSize }));
    groups.sort((x, y) => x.start - y.start);
    // Both lists sorted: one sweep, reading each overlap of a range and a group's inode table.
    let r = 0;
    for (const { group, start } of groups) {
      const end = start + tableBytes;
      while (r < ranges.length && ranges[r]![1] <= start) r++;
      for (let k = r; k < ranges.length && ranges[k]![0] < end; k++) {
        // Whole inodes of the overlap (a range boundary inside an inode takes that inode in).
        const from = Math.max(start, ranges[k]![0]);
        const to = Math.min(end, ranges[k]![1]);
        const first = Math.floor((from - start) / ga.inodeSize);
        // Inodes never used on either side (the lazily zeroed end of the table) are no change.
        const used = ga.inodesPerGroup - Math.min(ga.groups[group]!.unused, gb.groups[group]!.unused);
        const last = Math.min(Math.ceil((to - start) / ga.inodeSize), used);
        await compareInodes(a, b, start, first, last, ga.inodeSize, (slot) =>
          changed.add(group * ga.inodesPerGroup + slot + 1),
        );
      }
    }
    return changed;
  } finally {
    await a.close();
    await b.close();
  }
}

/**
 * The bytes of an inode that tell a change, read or not: all but the access time (i_atime, and
 * i_atime_extra in a large inode) and the checksums that follow it (l_i_checksum_lo, i_checksum_hi).
 * A file that was only read since the snapshot (relatime updates atime, which sets no ctime) is
 * then no change; every other change sets ctime (0x0C), which is compared.
 */
const COMPARED: readonly (readonly [number, number])[] = [
  [0x00, 0x08],
  [0x0c, 0x7c],
  [0x7e, 0x82],
  [0x84, 0x8c],
  [0x90, Number.POSITIVE_INFINITY],
];

function sameInode(x: Buffer, y: Buffer, at: number, inodeSize: number): boolean {
  for (const [from, to] of COMPARED) {
    const end = Math.min(to, inodeSize);
    if (from < end && x.compare(y, at + from, at + end, at + from, at + end) !== 0) return false;
  }
  return true;
}

/** Compares inode slots `[first, last)` of one inode table at `start` on both devices, 4 MiB at a time. */
async function compareInodes(
  a: FileHandle,
  b: FileHandle,
  start: number,
  first: number,
  last: number,
  inodeSize: number,
  onChanged: (slot: number) => void,
): Promise<void> {
  const step = Math.max(1, Math.floor((4 << 20) / inodeSize));
  for (let s = first; s < last; s += step) {
    const n = Math.min(step, last - s);
    const [x, y] = await Promise.all([
      readAt(a, start + s * inodeSize, n * inodeSize),
      readAt(b, start + s * inodeSize, n * inodeSize),
    ]);
    // 4 KiB at a time first (one native call), inode by inode only where those differ: most of what a
    // pool reports changed in an inode table is other inodes of the same chunk, or zeroing (lazy init).
    const run = Math.max(1, Math.floor(4096 / inodeSize));
    for (let i = 0; i < n; i += run) {
      const end = Math.min(n, i + run);
      if (x.compare(y, i * inodeSize, end * inodeSize, i * inodeSize, end * inodeSize) === 0) continue;
      for (let k = i; k < end; k++) if (!sameInode(x, y, k * inodeSize, inodeSize)) onChanged(s + k);
    }
  }
}

import type { FileHandle } from 'node:fs/promises';

// A reader of the few ext4 structures the thin_delta path needs, from the block device (whose page
// cache is the mounted file system's own metadata cache, so it sees what the kernel sees once synced):
// the superblock and group descriptors, inodes, inode bitmaps, extent trees and directory blocks.
// Anything it does not read (meta_bg, block-mapped or inline directories) is a reason, not a guess:
// the caller then compares the whole trees.

export interface Ext4Group {
  readonly inodeTable: number;
  readonly inodeBitmap: number;
  /** INODE_UNINIT: no inode of the group was ever used (its table and bitmap may be garbage). */
  readonly uninit: boolean;
  /**
   * How many inodes at the end of the group's table were never used (bg_itable_unused; 0 when the file
   * system keeps no such count): ext4 allocates below it, and zeroes it lazily after mounting.
   */
  readonly unused: number;
}

export interface Ext4Geometry {
  readonly blockSize: number;
  /** The first inode of files (those below are ext4's own: journal, resize, …; 2 is the root). */
  readonly firstIno: number;
  readonly inodesPerGroup: number;
  readonly inodeSize: number;
  readonly groups: readonly Ext4Group[];
}

const EXT4_MAGIC = 0xef53;
const INCOMPAT_META_BG = 0x10;
const INCOMPAT_64BIT = 0x80;
const RO_COMPAT_GDT_CSUM = 0x10;
const RO_COMPAT_METADATA_CSUM = 0x400;
const EXTENTS_FL = 0x80000;
const INLINE_DATA_FL = 0x10000000;
export const S_IFMT = 0xf000;
export const S_IFDIR = 0x4000;
/** Directory entries' file types (the filetype feature) as find's %y letters. */
const TYPES = ['?', 'f', 'd', 'c', 'b', 'p', 's', 'l'];

export async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer;
}

/** The geometry of the ext2/3/4 file system on `file`, or why it cannot be read. */
export async function geometryOf(file: FileHandle): Promise<Ext4Geometry | string> {
  const sb = await readAt(file, 1024, 1024);
  if (sb.readUInt16LE(56) !== EXT4_MAGIC) return 'no ext2/3/4 file system';
  const incompat = sb.readUInt32LE(96);
  // With meta_bg the group descriptors are spread over the disk: not read here.
  if ((incompat & INCOMPAT_META_BG) !== 0) return 'the file system uses meta_bg';
  const blockSize = 1024 << sb.readUInt32LE(24);
  const firstDataBlock = sb.readUInt32LE(20);
  const blocksPerGroup = sb.readUInt32LE(32);
  const inodesPerGroup = sb.readUInt32LE(40);
  const dynamic = sb.readUInt32LE(76) !== 0;
  const inodeSize = dynamic ? sb.readUInt16LE(88) : 128;
  const firstIno = dynamic ? sb.readUInt32LE(0x54) : 11;
  const wide = (incompat & INCOMPAT_64BIT) !== 0;
  // The group descriptors' unused-inode counts mean something only with uninit_bg or metadata_csum.
  const checksummed = (sb.readUInt32LE(100) & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM)) !== 0;
  const blocks = sb.readUInt32LE(4) + (wide ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
  const descSize = wide ? sb.readUInt16LE(0xfe) : 32;
  const count = Math.ceil((blocks - firstDataBlock) / blocksPerGroup);
  if (!(blockSize >= 1024 && inodeSize >= 128 && inodesPerGroup > 0 && count > 0 && descSize >= 32))
    return 'the superblock makes no sense';
  const table = await readAt(file, (firstDataBlock + 1) * blockSize, count * descSize);
  const high = (d: number, at: number) => (descSize >= 64 ? table.readUInt32LE(d + at) * 2 ** 32 : 0);
  const groups: Ext4Group[] = [];
  for (let g = 0; g < count; g++) {
    const d = g * descSize;
    groups.push({
      inodeBitmap: table.readUInt32LE(d + 4) + high(d, 0x24),
      inodeTable: table.readUInt32LE(d + 8) + high(d, 0x28),
      uninit: (table.readUInt16LE(d + 0x12) & 1) !== 0,
      unused: checksummed
        ? table.readUInt16LE(d + 0x1c) + (descSize >= 64 ? table.readUInt16LE(d + 0x32) * 2 ** 16 : 0)
        : 0,
    });
  }
  return { blockSize, firstIno, inodesPerGroup, inodeSize, groups };
}

export interface DirEntry {
  readonly ino: number;
  readonly name: Buffer;
  /** find's %y letter. */
  readonly type: string;
}

/** Inodes, bitmaps, extents and directories of one device. */
export class Ext4Reader {
  private readonly bitmaps = new Map<number, Promise<Buffer>>();
  private readonly tables = new Map<number, Promise<Buffer>>();

  constructor(
    private readonly file: FileHandle,
    readonly geometry: Ext4Geometry,
  ) {}

  block(n: number, count = 1): Promise<Buffer> {
    return readAt(this.file, n * this.geometry.blockSize, count * this.geometry.blockSize);
  }

  /**
   * A group's whole inode table, read at once (one read instead of one per inode: under emulation each
   * read costs far more than its bytes); kept when `keep` (the groups a search starts with).
   */
  table(group: number, keep: boolean): Promise<Buffer> {
    let table = this.tables.get(group);
    if (table === undefined) {
      const { inodesPerGroup, inodeSize, blockSize, groups } = this.geometry;
      table = this.block(groups[group]!.inodeTable, Math.ceil((inodesPerGroup * inodeSize) / blockSize));
      if (keep) this.tables.set(group, table);
    }
    return table;
  }

  /** The raw inode `ino` (from its group's kept table, or read alone). */
  async inode(ino: number): Promise<Buffer> {
    const { inodesPerGroup, inodeSize, blockSize, groups } = this.geometry;
    const group = Math.floor((ino - 1) / inodesPerGroup);
    const at = ((ino - 1) % inodesPerGroup) * inodeSize;
    const kept = this.tables.get(group);
    if (kept !== undefined) return (await kept).subarray(at, at + inodeSize);
    return readAt(this.file, groups[group]!.inodeTable * blockSize + at, inodeSize);
  }

  /** True when the inode bitmap marks `ino` used. */
  async inUse(ino: number): Promise<boolean> {
    const group = Math.floor((ino - 1) / this.geometry.inodesPerGroup);
    const g = this.geometry.groups[group];
    if (g === undefined || g.uninit) return false;
    let bitmap = this.bitmaps.get(group);
    if (bitmap === undefined) {
      bitmap = this.block(g.inodeBitmap);
      this.bitmaps.set(group, bitmap);
    }
    const bit = (ino - 1) % this.geometry.inodesPerGroup;
    return (((await bitmap)[bit >> 3]! >> (bit & 7)) & 1) === 1;
  }

  /** The data blocks of an inode, in file order, from its extent tree. */
  async blocksOf(inode: Buffer): Promise<number[] | string> {
    const flags = inode.readUInt32LE(0x20);
    if ((flags & INLINE_DATA_FL) !== 0) return 'a directory with inline data';
    if ((flags & EXTENTS_FL) === 0) return 'a block-mapped directory (no extents)';
    const out: number[] = [];
    const walk = async (node: Buffer, at: number, depthLeft: number): Promise<string | undefined> => {
      if (node.readUInt16LE(at) !== 0xf30a) return 'a damaged extent tree';
      const entries = node.readUInt16LE(at + 2);
      const depth = node.readUInt16LE(at + 6);
      if (depth > depthLeft) return 'a damaged extent tree';
      for (let e = 0; e < entries; e++) {
        const x = at + 12 + 12 * e;
        if (depth === 0) {
          const length = node.readUInt16LE(x + 4);
          const start = node.readUInt16LE(x + 6) * 2 ** 32 + node.readUInt32LE(x + 8);
          // Uninitialized extents (length > 32768) hold no data yet.
          if (length <= 32768) for (let b = 0; b < length; b++) out.push(start + b);
        } else {
          const child = node.readUInt32LE(x + 4) + node.readUInt16LE(x + 8) * 2 ** 32;
          const failed = await walk(await this.block(child), 0, depth - 1);
          if (failed !== undefined) return failed;
        }
      }
      return undefined;
    };
    const failed = await walk(inode, 0x28, 5);
    return failed ?? out;
  }

  /** The entries of directory `ino` (`.` and `..` included), or why they cannot be read. */
  async entries(ino: number): Promise<DirEntry[] | string> {
    const out: DirEntry[] = [];
    const failed = await this.scan(ino, (entryIno, data, at, nameLen, type) =>
      out.push({ ino: entryIno, name: Buffer.from(data.subarray(at, at + nameLen)), type: TYPES[type] ?? '?' }),
    );
    return failed ?? out;
  }

  /**
   * Calls `visit` for each entry of directory `ino` (inode, the block's bytes, where the name starts,
   * its length, its file type): nothing is made of the entries not asked for. Returns why not, if not.
   */
  async scan(
    ino: number,
    visit: (entryIno: number, data: Buffer, at: number, nameLen: number, type: number) => void,
  ): Promise<string | undefined> {
    const blocks = await this.blocksOf(await this.inode(ino));
    if (typeof blocks === 'string') return blocks;
    const { blockSize } = this.geometry;
    for (let i = 0; i < blocks.length; ) {
      // Consecutive blocks in one read.
      let n = 1;
      while (i + n < blocks.length && blocks[i + n] === blocks[i]! + n && n < 256) n++;
      const data = await this.block(blocks[i]!, n);
      for (let b = 0; b < n; b++) {
        for (let at = b * blockSize, end = (b + 1) * blockSize; at + 8 <= end; ) {
          const entryIno = data.readUInt32LE(at);
          const recLen = data.readUInt16LE(at + 4);
          if (recLen < 8 || at + recLen > end) return `a damaged directory block in inode ${ino}`;
          // Inode 0: free space, an htree node, the checksum tail.
          if (entryIno !== 0) visit(entryIno, data, at + 8, data[at + 6]!, data[at + 7]!);
          at += recLen;
        }
      }
      i += n;
    }
    return undefined;
  }
}

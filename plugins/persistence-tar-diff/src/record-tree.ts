import { decodePath, encodePath, isTextPath } from '@imgbased/system';

/** One file system object as `find -printf` sees it (never following symlinks). */
export interface Entry {
  /** f d l c b p s (find's %y). */
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly ino: number;
  readonly nlink: number;
  readonly mtime: string;
  readonly ctime: string;
  readonly link: string;
}

/**
 * A listed tree: absolute path inside the tree (`/etc/hosts`) → entry. Paths are names' bytes as
 * decodePath gives them (lossless: a name that is not valid UTF-8 keeps its bytes). A plain `Map` is one; a
 * `RecordTree` keeps find's raw records and parses an entry only when it is asked for, so that two trees
 * of 50,000 entries are compared byte by byte in place.
 */
export interface Tree {
  readonly size: number;
  has(path: string): boolean;
  get(path: string): Entry | undefined;
  keys(): IterableIterator<string>;
  /** The raw record (every field find printed), when the tree has them: equal records, equal entries. */
  record?(path: string): string | undefined;
}

/** Equal raw records (type, mode, owner, size, mtime, link and inode, link count, ctime): an untouched entry. */
export function sameRecord(a: Tree, b: Tree, path: string): boolean {
  if (a instanceof RecordTree && b instanceof RecordTree) return a.sameAs(b, path, false);
  const ra = a.record?.(path);
  return ra !== undefined && ra === b.record?.(path);
}

/**
 * True when two trees list `path` with the same quick record (type, mode, owner, size, mtime, link),
 * whether or not either was listed with the snapshot fields.
 */
export function sameQuick(a: Tree, b: Tree, path: string): boolean {
  if (a instanceof RecordTree && b instanceof RecordTree) return a.sameAs(b, path, true);
  return false;
}

/** What `find` prints: the fields that compare across file systems, the link target, then the snapshot fields. */
export const QUICK = '%y %m %U %G %s %T@';
export const SNAPSHOT = '%i %n %C@';
/**
 * A tree as find listed it: the listing (the bytes find wrote) and, per record, where its fields and its
 * path are. The path lookup table is a hash table of small integers over the path bytes in place: no
 * path is decoded into a string (nor kept in a `Map`) unless asked for, so that 150,000 entries cost the
 * garbage collector nothing; records are compared in place and decoded into entries only when asked for.
 */
export class RecordTree implements Tree {
  private readonly parsed = new Map<string, Entry>();
  /** Open addressing: record number + 1 per slot, 0 for none; a power of two, at least twice the records. */
  private readonly table: Int32Array;
  private readonly hashes: Int32Array;
  private readonly count: number;
  private scratch = Buffer.allocUnsafe(4096);
  private allKeys: string[] | undefined;

  /**
   * `at[4n .. 4n + 3]`: where record n's `QUICK\0link[\0SNAPSHOT]` starts and ends, and where its path
   * (inside the tree, without the tree's directory) starts and ends in `text` (bytes). `excluded` paths
   * are listed but never found nor iterated (tested when a path is decoded or looked up).
   */
  constructor(
    private readonly text: Buffer,
    private readonly at: Int32Array,
    private readonly excluded: (path: string) => boolean = () => false,
  ) {
    this.count = at.length / 4;
    let slots = 16;
    while (slots < 2 * this.count) slots *= 2;
    this.table = new Int32Array(slots);
    this.hashes = new Int32Array(this.count);
    const mask = slots - 1;
    for (let n = 0; n < this.count; n++) {
      const h = hashBytes(text, at[4 * n + 2]!, at[4 * n + 3]!);
      this.hashes[n] = h;
      let s = h & mask;
      for (;;) {
        const m = this.table[s]! - 1;
        if (m < 0) {
          this.table[s] = n + 1;
          break;
        }
        // The same path listed twice (overlapping roots): the last record counts, as in a Map.
        if (this.hashes[m] === h && this.samePathAt(m, text, at[4 * n + 2]!, at[4 * n + 3]!)) {
          this.table[s] = n + 1;
          break;
        }
        s = (s + 1) & mask;
      }
    }
  }

  /** From records by path (tests, small trees). */
  static of(records: ReadonlyMap<string, string>): RecordTree {
    const parts: Buffer[] = [];
    let length = 0;
    const at: number[] = [];
    for (const [p, r] of records) {
      const record = Buffer.concat([encodePath(r), Buffer.of(0)]);
      const path = Buffer.concat([encodePath(p), Buffer.of(0)]);
      at.push(length, length + record.length - 1, length + record.length, length + record.length + path.length - 1);
      parts.push(record, path);
      length += record.length + path.length;
    }
    return new RecordTree(Buffer.concat(parts), Int32Array.from(at));
  }

  private samePathAt(n: number, bytes: Buffer, start: number, end: number): boolean {
    const s = this.at[4 * n + 2]!;
    const e = this.at[4 * n + 3]!;
    return e - s === end - start && sameBytes(this.text, s, bytes, start, end - start);
  }

  /** The record number of a path, or -1. */
  private find(path: string): number {
    if (this.excluded(path)) return -1;
    if (this.scratch.length < 3 * path.length) this.scratch = Buffer.allocUnsafe(3 * path.length);
    // A name that is not valid UTF-8 is looked up by its own bytes (Node would write U+FFFD).
    const length = isTextPath(path) ? this.scratch.write(path, 'utf8') : encodePath(path).copy(this.scratch);
    const n = this.findBytes(this.scratch, 0, length, hashBytes(this.scratch, 0, length));
    // The tree's root, listed as its own directory, has an empty path inside the tree.
    return n < 0 && path === '/' ? this.findBytes(this.scratch, 0, 0, hashBytes(this.scratch, 0, 0)) : n;
  }

  private findBytes(bytes: Buffer, start: number, end: number, h: number): number {
    const mask = this.table.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const m = this.table[s]! - 1;
      if (m < 0) return -1;
      if (this.hashes[m] === h && this.samePathAt(m, bytes, start, end)) return m;
    }
  }

  /** The path of record n, decoded losslessly. */
  private pathOf(n: number): string {
    return decodePath(this.text, this.at[4 * n + 2]!, this.at[4 * n + 3]!) || '/';
  }

  /** Whether record n is the one the table finds for its path (not an earlier duplicate). */
  private current(n: number): boolean {
    return this.findBytes(this.text, this.at[4 * n + 2]!, this.at[4 * n + 3]!, this.hashes[n]!) === n;
  }

  private keyList(): string[] {
    if (this.allKeys === undefined) {
      const keys: string[] = [];
      for (let n = 0; n < this.count; n++) {
        if (!this.current(n)) continue;
        const p = this.pathOf(n);
        if (!this.excluded(p)) keys.push(p);
      }
      this.allKeys = keys;
    }
    return this.allKeys;
  }

  get size(): number {
    return this.keyList().length;
  }
  has(path: string): boolean {
    return this.find(path) >= 0;
  }
  keys(): IterableIterator<string> {
    return this.keyList()[Symbol.iterator]();
  }
  record(path: string): string | undefined {
    const n = this.find(path);
    if (n < 0) return undefined;
    return decodePath(this.text, this.at[4 * n]!, this.at[4 * n + 1]!);
  }

  /** Compares `path`'s record (or only its quick part) with another tree's, in place. */
  sameAs(other: RecordTree, path: string, quick: boolean): boolean {
    const a = this.find(path);
    const b = other.find(path);
    if (a < 0 || b < 0) return false;
    return this.sameRecordAt(a, other, b, quick);
  }

  private sameRecordAt(a: number, other: RecordTree, b: number, quick: boolean): boolean {
    const as = this.at[4 * a]!;
    const bs = other.at[4 * b]!;
    let ae = this.at[4 * a + 1]!;
    let be = other.at[4 * b + 1]!;
    if (quick) {
      ae = quickEnd(this.text, as, ae);
      be = quickEnd(other.text, bs, be);
    }
    return ae - as === be - bs && sameBytes(this.text, as, other.text, bs, ae - as);
  }

  /**
   * The paths whose records (or quick parts) differ between this tree and `other`, or that only one
   * lists: one pass over both listings, matched by path bytes; only those paths are decoded.
   */
  differing(other: RecordTree, quick: boolean): string[] {
    const out: string[] = [];
    const matched = new Uint8Array(other.count);
    for (let n = 0; n < this.count; n++) {
      const s = this.at[4 * n + 2]!;
      const e = this.at[4 * n + 3]!;
      // Listings of a snapshot and its origin come in the same order: try the same position first.
      let m = n < other.count && other.hashes[n] === this.hashes[n] && other.samePathAt(n, this.text, s, e) ? n : -1;
      if (m < 0) m = other.findBytes(this.text, s, e, this.hashes[n]!);
      if (m >= 0) matched[m] = 1;
      if (m >= 0 && this.sameRecordAt(n, other, m, quick)) continue;
      if (!this.current(n)) continue;
      const p = this.pathOf(n);
      if (!this.excluded(p)) out.push(p);
    }
    for (let m = 0; m < other.count; m++) {
      if (matched[m] === 1 || !other.current(m)) continue;
      const p = other.pathOf(m);
      if (!other.excluded(p) && this.find(p) < 0) out.push(p);
    }
    return out;
  }

  get(path: string): Entry | undefined {
    let e = this.parsed.get(path);
    if (e !== undefined) return e;
    const r = this.record(path);
    if (r === undefined) return undefined;
    const [quick, link, snapshot] = r.split('\0');
    const [type, mode, uid, gid, size, mtime] = quick!.split(' ');
    const [ino, nlink, ctime] = (snapshot ?? '0 1 0').split(' ');
    e = {
      type: type!,
      mode: Number.parseInt(mode!, 8),
      uid: Number(uid),
      gid: Number(gid),
      size: Number(size),
      ino: Number(ino),
      nlink: Number(nlink),
      mtime: mtime!,
      ctime: ctime!,
      link: link!,
    };
    this.parsed.set(path, e);
    return e;
  }
}

/** Equal byte ranges. (A loop: for a few dozen bytes, Buffer#compare's argument checks cost more.) */
function sameBytes(x: Buffer, xs: number, y: Buffer, ys: number, length: number): boolean {
  for (let k = length - 1; k >= 0; k--) if (x[xs + k] !== y[ys + k]) return false;
  return true;
}

/** FNV-1a over bytes, 32 bits. */
function hashBytes(bytes: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h;
}

/** Where a record's quick part ends (at its second NUL, or where the record ends). */
function quickEnd(text: Buffer, start: number, end: number): number {
  const second = text.indexOf(0, text.indexOf(0, start) + 1);
  return second < 0 || second > end ? end : second;
}

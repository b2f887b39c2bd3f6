import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { constants } from 'node:fs';
import { lstat, mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandRunner, OperationContext } from '@imgbased/core';

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
 * A listed tree: absolute path inside the tree (`/etc/hosts`) → entry. A plain `Map` is one; a
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
const QUICK = '%y %m %U %G %s %T@';
const SNAPSHOT = '%i %n %C@';
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
      const record = Buffer.from(`${r}\0`);
      const path = Buffer.from(`${p}\0`);
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
    const length = this.scratch.write(path, 'utf8');
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

  /** The path of record n, decoded. */
  private pathOf(n: number): string {
    return this.text.toString('utf8', this.at[4 * n + 2]!, this.at[4 * n + 3]!) || '/';
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
    return this.text.toString('utf8', this.at[4 * n]!, this.at[4 * n + 1]!);
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

/**
 * Lists `roots` (absolute paths inside the tree) of the tree at `dir` with one `find` per root: one
 * C process walks the tree at the speed of `lstat`, far faster than a walk in JavaScript, and its
 * records are kept as strings (parsed when needed). `-xdev` keeps it on the tree's own file system.
 * `snapshot` adds inode number, link count and ctime: what tells an untouched entry of a block-level
 * snapshot; a tree only compared across file systems goes without (less for find to print).
 */
export async function walkTree(
  runner: CommandRunner,
  dir: string,
  roots: readonly string[],
  excluded: (path: string) => boolean,
  context?: OperationContext,
  snapshot = true,
): Promise<RecordTree> {
  const format = `${QUICK}\\0%l\\0${snapshot ? `${SNAPSHOT}\\0` : ''}%p\\0`;
  const fields = snapshot ? 4 : 3;
  const starts: string[] = [];
  for (const root of roots) {
    const start = join(dir, root);
    if ((await lstat(start).catch(() => undefined)) !== undefined) starts.push(start);
  }
  if (starts.length === 0) return new RecordTree(Buffer.alloc(0), new Int32Array(0));
  // One find for every root (a process start costs more than its arguments). It writes the listing
  // into a file in memory (tmpfs) that is read at once: through a pipe it comes in 4 KiB pieces, and
  // each costs Node a wakeup (a third of a second of CPU for 50,000 entries).
  const scratch = await mkdtemp(join(await listingDirectory(), 'imgbased-tar-diff-'));
  let listed: Buffer;
  try {
    const listing = join(scratch, 'listing');
    await runner.run({ argv: ['find', ...starts, '-xdev', '-fprintf', listing, format], mutates: false }, context);
    // Kept as bytes: only the paths are decoded (readFile with an encoding decodes chunk by chunk
    // through a StringDecoder, and the whole listing as a string costs tens of milliseconds more).
    listed = await readFile(listing);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return indexListing(listed, Buffer.byteLength(dir.replace(/\/+$/, '')), fields, excluded);
}

/**
 * Indexes find's records: QUICK \0 link \0 [SNAPSHOT \0] host path \0, `fields` NULs each. One pass over
 * the bytes, in a function of its own so that it runs optimised (not as part of an async function); no
 * path is decoded here.
 */
function indexListing(listed: Buffer, prefix: number, fields: number, excluded: (path: string) => boolean): RecordTree {
  let at = new Int32Array(4096);
  let k = 0;
  let pos = 0;
  let recordEnd = 0;
  for (let i = listed.indexOf(0); i >= 0; i = listed.indexOf(0, i + 1)) {
    // (indexOf finds the next NUL in C: far quicker than a loop over every byte.)
    let field = 1;
    while (field < fields - 1 && i >= 0) {
      i = listed.indexOf(0, i + 1);
      field++;
    }
    if (i < 0) break;
    recordEnd = i;
    i = listed.indexOf(0, i + 1);
    if (i < 0) break;
    if (k + 4 > at.length) {
      const grown = new Int32Array(at.length * 2);
      grown.set(at);
      at = grown;
    }
    at[k++] = pos;
    at[k++] = recordEnd;
    at[k++] = recordEnd + 1 + prefix;
    at[k++] = i;
    pos = i + 1;
  }
  return new RecordTree(listed, at.subarray(0, k), excluded);
}

const TMPFS_MAGIC = 0x01021994;
let listingDir: Promise<string> | undefined;
/** /dev/shm when it is a tmpfs (listings stay in memory), else the temporary directory. */
function listingDirectory(): Promise<string> {
  listingDir ??= statfs('/dev/shm')
    .then((st) => (st.type === TMPFS_MAGIC ? '/dev/shm' : tmpdir()))
    .catch(() => tmpdir());
  return listingDir;
}

/** All extended attributes (SELinux label, ACLs, capabilities, user.*) of paths, by absolute host path. */
export async function readXattrs(
  runner: CommandRunner,
  paths: readonly string[],
  context?: OperationContext,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const chunks: string[][] = [];
  for (let i = 0; i < paths.length; i += 4096) chunks.push(paths.slice(i, i + 4096) as string[]);
  // Two getfattr at a time: the machine's cores are shared with the walks and tar.
  await inParallel(chunks, 2, async (chunk) => {
    const { stdout } = await runner.run(
      {
        argv: [
          'getfattr',
          '--no-dereference',
          '--absolute-names',
          '--dump',
          '--match=-',
          '--encoding=hex',
          '--',
          ...chunk,
        ],
        mutates: false,
        okExitCodes: [0, 1],
      },
      context,
    );
    for (const block of stdout.split('\n\n')) {
      const lines = block.split('\n').filter(Boolean);
      const head = lines[0];
      if (!head?.startsWith('# file: ')) continue;
      out.set(unescapeOctal(head.slice('# file: '.length)), lines.slice(1).sort().join('\n'));
    }
  });
  for (const p of paths) if (!out.has(p)) out.set(p, '');
  return out;
}

/**
 * readXattrs for many callers at once: the requests made in the same turn of the event loop go into
 * one getfattr (a process start costs more than a thousand paths).
 */
export function batchedXattrs(
  runner: CommandRunner,
  context?: OperationContext,
): (paths: readonly string[]) => Promise<Map<string, string>> {
  let pending: { paths: readonly string[]; resolve: (m: Map<string, string>) => void; reject: (e: unknown) => void }[] =
    [];
  const flush = () => {
    const batch = pending;
    pending = [];
    readXattrs(runner, [...new Set(batch.flatMap((b) => b.paths))], context).then(
      (all) => {
        for (const b of batch) b.resolve(all);
      },
      (e: unknown) => {
        for (const b of batch) b.reject(e);
      },
    );
  };
  return (paths) => {
    if (paths.length === 0) return Promise.resolve(new Map());
    return new Promise((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ paths, resolve, reject });
    });
  };
}

/** Runs `work` over `items`, at most `width` at a time. */
export async function inParallel<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** getfattr prints special characters of names as \ooo. */
function unescapeOctal(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

// fs callbacks, not FileHandle: a FileHandle costs a quarter of a millisecond of CPU per file (a
// thousand changed files are read twice: compared, then hashed).
const openFd = (path: string) =>
  new Promise<number>((resolve, reject) => fs.open(path, READ_FLAGS, (e, fd) => (e ? reject(e) : resolve(fd))));
const closeFd = (fd: number) => new Promise<void>((resolve) => fs.close(fd, () => resolve()));
const fstatFd = (fd: number) =>
  new Promise<fs.Stats>((resolve, reject) => fs.fstat(fd, (e, st) => (e ? reject(e) : resolve(st))));
const readFd = (fd: number, buffer: Buffer) =>
  new Promise<number>((resolve, reject) =>
    fs.read(fd, buffer, 0, buffer.length, null, (e, n) => (e ? reject(e) : resolve(n))),
  );

/** True when two regular files have the same bytes (read in 1 MiB chunks, symlinks never followed). */
export async function sameContent(a: string, b: string): Promise<boolean> {
  const fa = await openFd(a);
  const fb = await openFd(b).catch(async (e: unknown) => {
    await closeFd(fa);
    throw e;
  });
  try {
    const [sa, sb] = await Promise.all([fstatFd(fa), fstatFd(fb)]);
    if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
    const size = Math.max(1, Math.min(sa.size, 1024 * 1024));
    const ba = Buffer.allocUnsafe(size);
    const bb = Buffer.allocUnsafe(size);
    for (;;) {
      const [ra, rb] = await Promise.all([readFd(fa, ba), readFd(fb, bb)]);
      if (ra !== rb) return false;
      if (ra === 0) return true;
      if (!ba.subarray(0, ra).equals(bb.subarray(0, rb))) return false;
    }
  } finally {
    await Promise.all([closeFd(fa), closeFd(fb)]);
  }
}

/** The sha256 of a regular file's bytes (hex), never following a symlink; undefined when it is not one. */
export async function sha256File(path: string, buffer: Buffer): Promise<string | undefined> {
  const fd = await openFd(path);
  try {
    if (!(await fstatFd(fd)).isFile()) return undefined;
    const hash = createHash('sha256');
    for (;;) {
      const n = await readFd(fd, buffer);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
    return hash.digest('hex');
  } finally {
    await closeFd(fd);
  }
}

/**
 * sha256File for a small file, read synchronously: a file of a few KiB costs five trips through
 * libuv's thread pool otherwise, and a thousand of them add up to a quarter of a second of CPU.
 */
export function sha256SmallFile(path: string, buffer: Buffer): string | undefined {
  const fd = fs.openSync(path, READ_FLAGS);
  try {
    if (!fs.fstatSync(fd).isFile()) return undefined;
    const hash = createHash('sha256');
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
    return hash.digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

/** A short digest of an xattr dump (as readXattrs returns it); the empty string for none. */
export function xattrDigest(dump: string): string {
  return dump === '' ? '' : createHash('sha256').update(dump).digest('hex');
}

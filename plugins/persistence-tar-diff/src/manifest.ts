import type { Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type CommandRunner, type OperationContext, type PersistenceConflict, UnsafePathError } from '@imgbased/core';
import { decodePath, encodePath } from '@imgbased/system';
import type { Change } from './plan.js';
import { type Entry, inParallel, readXattrs, sha256File, sha256SmallFile, xattrDigest } from './tree.js';

/** Files up to this size are hashed with synchronous reads (see sha256SmallFile). */
const SMALL = 256 * 1024;

/** The format tag of a manifest this plugin writes and reads. */
export const MANIFEST_FORMAT = 'imgbased-tar-diff/2';

/** One side of a change: what a path was (in the old base) or became (in the old layer). */
export interface EntryState {
  /** f d l c b p s (find's %y). */
  readonly type: string;
  /** Permission bits with SUID/SGID/sticky. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Seconds since the epoch with the fraction find prints. */
  readonly mtime: string;
  /** Symlink target. */
  readonly link?: string | undefined;
  /** Regular files of the admin's side: sha256 of the bytes. */
  readonly sha256?: string | undefined;
  /** The admin's side: sha256 of every xattr (SELinux label, ACLs, capabilities, user.*), '' for none. */
  readonly xattrs?: string | undefined;
  /** Another name of the same inode, listed before this one. */
  readonly hardLinkTo?: string | undefined;
}

export type Outcome = 'applied' | 'already-in-new-base' | PersistenceConflict['resolution'];

export interface ManifestEntry {
  readonly path: string;
  readonly change: Exclude<Change, 'same'>;
  /** What happened to it in the new layer. */
  readonly outcome: Outcome;
  /** The old base's version (metadata only); null when the admin added the path. */
  readonly before: EntryState | null;
  /** The admin's version; null when the admin deleted the path. */
  readonly after: EntryState | null;
}

/** The kept record of the admin's changes: every changed path with digests, and the deletion markers. */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly created: string;
  readonly roots: readonly string[];
  readonly excludes: readonly string[];
  /** The trees as they were mounted at the carry-over (for the reader: where the content can be exported from). */
  readonly trees: { readonly oldBase: string; readonly oldLayer: string; readonly newLayer: string };
  /** path → change, for a quick look. */
  readonly changes: Readonly<Record<string, Exclude<Change, 'same'>>>;
  /** Deletion markers: what the admin deleted. */
  readonly deleted: readonly string[];
  /** Account databases merged by name (not part of the delta's content). */
  readonly merged: readonly string[];
  readonly conflicts: readonly PersistenceConflict[];
  readonly entries: readonly ManifestEntry[];
}

export function stateOf(e: Entry): EntryState {
  return {
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtime: e.mtime,
    ...(e.type === 'l' ? { link: e.link } : {}),
  };
}

/**
 * The admin's side of every path in `paths` (absolute inside the tree at `dir`): metadata from the
 * walk, sha256 of regular files, a digest of the xattrs; hard-linked names point at the first name.
 */
export async function describeAdmin(
  dir: string,
  paths: readonly string[],
  entryOf: (path: string) => Entry,
  xattrsOf: (hostPaths: readonly string[]) => Promise<Map<string, string>>,
): Promise<Map<string, EntryState>> {
  const sums = new Map<string, string | undefined>();
  const firstName = new Map<number, string>();
  const hardLinkTo = new Map<string, string>();
  for (const p of paths) {
    const e = entryOf(p);
    if (e.type !== 'f') continue;
    if (e.nlink > 1) {
      const first = firstName.get(e.ino);
      if (first !== undefined) {
        hardLinkTo.set(p, first);
        continue;
      }
      firstName.set(e.ino, p);
    }
    sums.set(p, undefined);
  }
  const files = [...sums.keys()];
  const [xattrs] = await Promise.all([
    xattrsOf(paths.map((p) => join(dir, p))),
    (async () => {
      // Four readers at a time: enough to keep the disk and one core busy beside tar.
      const buffers = Array.from({ length: 4 }, () => Buffer.allocUnsafe(1024 * 1024));
      const free = [...buffers];
      const small = files.filter((p) => entryOf(p).size <= SMALL);
      const large = files.filter((p) => entryOf(p).size > SMALL);
      for (const p of small) sums.set(p, sha256SmallFile(join(dir, p), buffers[0]!));
      await inParallel(large, 4, async (p) => {
        const buffer = free.pop()!;
        try {
          sums.set(p, await sha256File(join(dir, p), buffer));
        } finally {
          free.push(buffer);
        }
      });
    })(),
  ]);
  const out = new Map<string, EntryState>();
  for (const p of paths) {
    const e = entryOf(p);
    const link = hardLinkTo.get(p);
    const sha256 = link === undefined ? sums.get(p) : sums.get(link);
    out.set(p, {
      ...stateOf(e),
      ...(sha256 === undefined ? {} : { sha256 }),
      xattrs: xattrDigest(xattrs.get(join(dir, p)) ?? ''),
      ...(link === undefined ? {} : { hardLinkTo: link }),
    });
  }
  return out;
}

const typeOf = (st: Stats | import('node:fs').BigIntStats) =>
  st.isFile()
    ? 'f'
    : st.isDirectory()
      ? 'd'
      : st.isSymbolicLink()
        ? 'l'
        : st.isCharacterDevice()
          ? 'c'
          : st.isBlockDevice()
            ? 'b'
            : st.isFIFO()
              ? 'p'
              : 's';

/** find's `%T@` (`1795654257.3566532780`) as nanoseconds. */
export function timeNs(text: string): bigint {
  const [sec, frac = ''] = text.split('.');
  return BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

/** What a tree holds at a path, never following a symlink: undefined when nothing is there. */
export async function currentState(
  dir: string,
  path: string,
): Promise<(EntryState & { mtimeNs: bigint; ctimeNs: bigint }) | undefined> {
  const full = encodePath(join(dir, path));
  const st = await lstat(full, { bigint: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw e;
  });
  if (st === undefined) return undefined;
  const type = typeOf(st);
  const ns = st.mtimeNs;
  return {
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    mtime: `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`,
    ...(type === 'l' ? { link: decodePath(await readlink(full, { encoding: 'buffer' })) } : {}),
    mtimeNs: ns,
    ctimeNs: st.ctimeNs,
  };
}

/**
 * Checks that the tree at `dir` holds the admin's version of every entry of the manifest that has one
 * (type, mode, owner, size, symlink target, sha256 of the bytes, xattrs). Returns the mismatches, one
 * line each (empty: it matches), and each checked path's ctime, so a caller can tell that nothing moved
 * after the check.
 */
export async function verifyAgainst(
  runner: CommandRunner,
  dir: string,
  manifest: Manifest,
  context?: OperationContext,
): Promise<{ mismatches: string[]; ctimes: Map<string, bigint> }> {
  const entries = manifest.entries.filter((e) => e.after !== null);
  const mismatches: string[] = [];
  const ctimes = new Map<string, bigint>();
  const xattrs = await readXattrs(
    runner,
    entries.map((e) => join(dir, e.path)),
    context,
  );
  const buffers = Array.from({ length: 4 }, () => Buffer.allocUnsafe(1024 * 1024));
  await inParallel(entries, 4, async (entry) => {
    const want = entry.after!;
    const have = await currentState(dir, entry.path);
    if (have === undefined) {
      mismatches.push(`${entry.path}: missing`);
      return;
    }
    ctimes.set(entry.path, have.ctimeNs);
    const diff: string[] = [];
    for (const key of ['type', 'mode', 'uid', 'gid', 'link'] as const)
      if ((have[key] ?? '') !== (want[key] ?? '')) diff.push(key);
    if (want.type === 'f' && have.size !== want.size) diff.push('size');
    if (want.sha256 !== undefined && have.type === 'f' && diff.length === 0) {
      const buffer = buffers.pop()!;
      try {
        if ((await sha256File(join(dir, entry.path), buffer)) !== want.sha256) diff.push('sha256');
      } finally {
        buffers.push(buffer);
      }
    }
    if (want.xattrs !== undefined && xattrDigest(xattrs.get(join(dir, entry.path)) ?? '') !== want.xattrs)
      diff.push('xattrs');
    if (diff.length > 0) mismatches.push(`${entry.path}: ${diff.join(', ')} differ`);
  });
  return { mismatches: mismatches.sort(), ctimes };
}

/** Parses and checks a manifest's format and paths (absolute, no `..`). */
export function parseManifest(text: string, source: string): Manifest {
  let manifest: Manifest | undefined;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    manifest = undefined;
  }
  if (manifest?.format !== MANIFEST_FORMAT || !Array.isArray(manifest.entries))
    throw new UnsafePathError(source, `not a ${MANIFEST_FORMAT} manifest`);
  for (const e of manifest.entries)
    if (typeof e.path !== 'string' || !e.path.startsWith('/') || e.path.split('/').includes('..'))
      throw new UnsafePathError(source, `the manifest names a bad path ${JSON.stringify(e.path)}`);
  return manifest;
}

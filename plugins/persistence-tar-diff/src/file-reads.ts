import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { constants } from 'node:fs';
import type { CommandRunner, OperationContext } from '@imgbased/core';
import { decodePath, encodePath, isTextPath } from '@imgbased/system';

const GETFATTR = ['getfattr', '--no-dereference', '--absolute-names', '--dump', '--match=-', '--encoding=hex'];

/**
 * All extended attributes (SELinux label, ACLs, capabilities, user.*) of paths, by absolute host path.
 * A name that is not valid UTF-8 cannot go into an argv (Node encodes arguments as UTF-8), and getfattr
 * prints its bytes as they are, which the runner decodes as UTF-8: each such path gets a getfattr of its
 * own, its name given as bytes on stdin through `xargs -0`, and the output is its by construction.
 */
export async function readXattrs(
  runner: CommandRunner,
  paths: readonly string[],
  context?: OperationContext,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const text = paths.filter(isTextPath);
  const chunks: string[][] = [];
  for (let i = 0; i < text.length; i += 4096) chunks.push(text.slice(i, i + 4096));
  // Two getfattr at a time: the machine's cores are shared with the walks and tar.
  await inParallel(chunks, 2, async (chunk) => {
    const { stdout } = await runner.run(
      { argv: [...GETFATTR, '--', ...chunk], mutates: false, okExitCodes: [0, 1] },
      context,
    );
    for (const [name, dump] of parseDump(stdout)) out.set(unescapeOctal(name), dump);
  });
  for (const path of paths.filter((p) => !isTextPath(p))) {
    const { stdout } = await runner.run(
      {
        argv: ['xargs', '-0', '--', ...GETFATTR, '--'],
        input: Buffer.concat([encodePath(path), Buffer.of(0)]),
        mutates: false,
        // xargs: 123 when getfattr exited 1 (the path is gone).
        okExitCodes: [0, 123],
      },
      context,
    );
    const [first] = parseDump(stdout);
    if (first !== undefined) out.set(path, first[1]);
  }
  for (const p of paths) if (!out.has(p)) out.set(p, '');
  return out;
}

/** getfattr's dump: `# file: NAME` then `name=0x…` lines, blocks apart by an empty line. */
function parseDump(stdout: string): [name: string, dump: string][] {
  const out: [string, string][] = [];
  for (const block of stdout.split('\n\n')) {
    const lines = block.split('\n').filter(Boolean);
    const head = lines[0];
    if (!head?.startsWith('# file: ')) continue;
    out.push([head.slice('# file: '.length), lines.slice(1).sort().join('\n')]);
  }
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

/** getfattr prints a backslash and control characters of names as \ooo. */
function unescapeOctal(s: string): string {
  if (!s.includes('\\')) return s;
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of s.matchAll(/\\([0-7]{3})/g)) {
    parts.push(Buffer.from(s.slice(last, m.index), 'utf8'), Buffer.of(Number.parseInt(m[1]!, 8)));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(s.slice(last), 'utf8'));
  return decodePath(Buffer.concat(parts));
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

// fs callbacks, not FileHandle: a FileHandle costs a quarter of a millisecond of CPU per file (a
// thousand changed files are read twice: compared, then hashed).
const openFd = (path: string) =>
  new Promise<number>((resolve, reject) =>
    fs.open(encodePath(path), READ_FLAGS, (e, fd) => (e ? reject(e) : resolve(fd))),
  );
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
  const fd = fs.openSync(encodePath(path), READ_FLAGS);
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

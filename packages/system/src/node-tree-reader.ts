import { type BigIntStats, constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import {
  CommandNotFoundError,
  CommandRunner,
  type OperationContext,
  type TreeEntry,
  type TreeEntryType,
  type TreeReader,
} from '@imgbased/core';
import { inject, injectable } from 'tsyringe';

/** Files bigger than this get no unified diff (`--content`). */
const MAX_DIFF_BYTES = 1024 ** 2;
/** Paths per getfattr run (well under the kernel's argument limit). */
const XATTR_BATCH = 1000;

/**
 * Reads trees with lstat(2), never following a symlink nor crossing into another file system (so
 * `/` of the running layer is read without /proc, /sys or separate volumes); extended attributes
 * with getfattr (attr), in batches; unified diffs with diff(1). Names are taken as UTF-8.
 */
@injectable()
export class NodeTreeReader implements TreeReader {
  constructor(@inject(CommandRunner) private readonly runner: CommandRunner) {}

  async list(root: string, context?: OperationContext): Promise<TreeEntry[]> {
    const top = await lstat(root, { bigint: true });
    const found: { path: string; stat: BigIntStats; target?: string }[] = [];
    const walk = async (relative: string): Promise<void> => {
      const names = (await readdir(`${root === '/' ? '' : root}${relative}` || '/')).sort();
      for (const name of names) {
        const path = `${relative}/${name}`;
        const full = `${root === '/' ? '' : root}${path}`;
        const stat = await lstat(full, { bigint: true });
        found.push({ path, stat, ...(stat.isSymbolicLink() ? { target: await readlink(full) } : {}) });
        if (stat.isDirectory() && stat.dev === top.dev) await walk(path);
      }
    };
    await walk('');
    const xattrs = await this.xattrs(
      root,
      found.map((f) => f.path),
      context,
    );
    return found
      .map(({ path, stat, target }) => ({
        path,
        type: typeOf(stat),
        mode: Number(stat.mode & 0o7777n),
        uid: Number(stat.uid),
        gid: Number(stat.gid),
        size: stat.isFile() ? Number(stat.size) : 0,
        mtimeMs: Number(stat.mtimeNs) / 1e6,
        ...(target === undefined ? {} : { target }),
        ...(xattrs === undefined ? {} : { xattrs: xattrs.get(path) ?? {} }),
        ...(typeOf(stat) === 'other' ? { special: special(stat) } : {}),
      }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async sameContent(a: string, b: string): Promise<boolean> {
    const [fa, fb] = await Promise.all([
      open(a, constants.O_RDONLY | constants.O_NOFOLLOW),
      open(b, constants.O_RDONLY | constants.O_NOFOLLOW),
    ]);
    try {
      const [ba, bb] = [Buffer.alloc(1 << 16), Buffer.alloc(1 << 16)];
      for (;;) {
        const [ra, rb] = await Promise.all([fa.read(ba, 0, ba.length), fb.read(bb, 0, bb.length)]);
        if (ra.bytesRead !== rb.bytesRead) return false;
        if (ra.bytesRead === 0) return true;
        if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      }
    } finally {
      await Promise.all([fa.close(), fb.close()]);
    }
  }

  async textDiff(
    a: string,
    b: string,
    labels: { readonly a: string; readonly b: string },
    context?: OperationContext,
  ): Promise<string | undefined> {
    for (const file of [a, b]) if (!(await isSmallText(file))) return undefined;
    const argv = ['diff', '-u', '--label', labels.a, '--label', labels.b, '--', a, b];
    const result = await this.runner.run({ argv, mutates: false, okExitCodes: [0, 1] }, context);
    return result.stdout;
  }

  /** Extended attributes by path (hex values); undefined when getfattr is not installed. */
  private async xattrs(
    root: string,
    paths: readonly string[],
    context?: OperationContext,
  ): Promise<Map<string, Record<string, string>> | undefined> {
    const prefix = root === '/' ? '' : root;
    const all = new Map<string, Record<string, string>>();
    for (let at = 0; at < paths.length; at += XATTR_BATCH) {
      const batch = paths.slice(at, at + XATTR_BATCH).map((p) => `${prefix}${p}`);
      const argv = ['getfattr', '--absolute-names', '-h', '-d', '-m', '-', '-e', 'hex', '--', ...batch];
      try {
        const result = await this.runner.run({ argv, mutates: false, okExitCodes: [0, 1] }, context);
        for (const [path, values] of parseGetfattr(result.stdout)) all.set(path.slice(prefix.length), values);
      } catch (error) {
        if (error instanceof CommandNotFoundError) return undefined;
        throw error;
      }
    }
    return all;
  }
}

/** Parses `getfattr -d -e hex` output: `# file: PATH` then `name=0x…` lines (PATH with octal escapes). */
export function parseGetfattr(stdout: string): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = {};
      const path = line
        .slice(8)
        .replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
      found.set(path, current);
    } else if (current && line.includes('=')) {
      current[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return found;
}

function typeOf(stat: BigIntStats): TreeEntryType {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symlink';
  return 'other';
}

function special(stat: BigIntStats): string {
  const rdev = Number(stat.rdev);
  const numbers = `${Math.floor(rdev / 256) & 0xfff}:${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)}`;
  if (stat.isCharacterDevice()) return `char ${numbers}`;
  if (stat.isBlockDevice()) return `block ${numbers}`;
  return stat.isFIFO() ? 'fifo' : 'socket';
}

async function isSmallText(path: string): Promise<boolean> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if ((await handle.stat()).size > MAX_DIFF_BYTES) return false;
    const head = Buffer.alloc(8192);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return !head.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}

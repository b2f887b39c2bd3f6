import { lstat, mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandFailedError, type CommandRunner, type OperationContext } from '@imgbased/core';
import { QUICK, RecordTree, SNAPSHOT } from './record-tree.js';

export * from './file-reads.js';
export * from './record-tree.js';

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
  // One find for every root (a process start costs more than its arguments).
  const listed = await findListing(runner, [...starts, '-xdev'], format, context);
  return indexListing(listed, Buffer.byteLength(dir.replace(/\/+$/, '')), fields, excluded);
}

/**
 * Lists exactly `paths` (absolute paths inside the tree at `dir`; those it lacks are left out) as
 * walkTree lists them: the same records, so that the trees compare alike; and everything below the
 * directories `subtrees` (on the tree's file system).
 */
export async function listPaths(
  runner: CommandRunner,
  dir: string,
  paths: readonly string[],
  excluded: (path: string) => boolean,
  context?: OperationContext,
  snapshot = true,
  subtrees: readonly string[] = [],
): Promise<RecordTree> {
  const format = `${QUICK}\\0%l\\0${snapshot ? `${SNAPSHOT}\\0` : ''}%p\\0`;
  const starts = paths.map((p) => (p === '/' ? dir : join(dir, p)));
  const parts: Buffer[] = [];
  // In batches (an argument list has its limits); find looks each up itself, those missing it reports.
  for (let i = 0; i < starts.length; i += 4096)
    parts.push(await findListing(runner, [...starts.slice(i, i + 4096), '-maxdepth', '0'], format, context, true));
  const below = subtrees.map((p) => join(dir, p));
  for (let i = 0; i < below.length; i += 4096)
    parts.push(await findListing(runner, [...below.slice(i, i + 4096), '-mindepth', '1', '-xdev'], format, context));
  return indexListing(Buffer.concat(parts), Buffer.byteLength(dir.replace(/\/+$/, '')), snapshot ? 4 : 3, excluded);
}

/**
 * The names under `roots` of the tree at `dir` with their inode numbers (`ino \0 host path \0` each): read
 * from the directories alone (find takes the inode number from the directory entry), no inode is read.
 */
export async function listNames(
  runner: CommandRunner,
  dir: string,
  roots: readonly string[],
  context?: OperationContext,
): Promise<Buffer> {
  const starts: string[] = [];
  for (const root of roots) {
    const start = join(dir, root);
    if ((await lstat(start).catch(() => undefined)) !== undefined) starts.push(start);
  }
  if (starts.length === 0) return Buffer.alloc(0);
  return findListing(runner, [...starts, '-xdev'], '%i %y %n\\0%p\\0', context);
}

/**
 * Runs `find ARGS -fprintf LISTING FORMAT` and returns the listing's bytes. It writes the listing into a
 * file in memory (tmpfs) that is read at once: through a pipe it comes in 4 KiB pieces, and each costs
 * Node a wakeup (a third of a second of CPU for 50,000 entries). Kept as bytes: only the paths are
 * decoded when needed (a whole listing as a string costs tens of milliseconds more).
 */
async function findListing(
  runner: CommandRunner,
  args: readonly string[],
  format: string,
  context?: OperationContext,
  missingIsFine = false,
): Promise<Buffer> {
  const scratch = await mkdtemp(join(await listingDirectory(), 'imgbased-tar-diff-'));
  try {
    const listing = join(scratch, 'listing');
    const argv = ['find', ...args, '-fprintf', listing, format];
    const run = await runner.run({ argv, mutates: false, okExitCodes: missingIsFine ? [0, 1] : [0] }, context);
    // Exit 1 for start points that do not exist is what was asked for; for anything else, not.
    if (
      run.exitCode !== 0 &&
      !run.stderr.split('\n').every((l) => l === '' || l.endsWith(': No such file or directory'))
    )
      throw new CommandFailedError(argv, run.exitCode, run.stderr);
    return await readFile(listing);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Indexes find's records: QUICK \0 link \0 [SNAPSHOT \0] host path \0, `fields` NULs each. One pass over
 * the bytes, in a function of its own so that it runs optimised (not as part of an async function); no
 * path is decoded here.
 */
export function indexListing(
  listed: Buffer,
  prefix: number,
  fields: number,
  excluded: (path: string) => boolean,
): RecordTree {
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

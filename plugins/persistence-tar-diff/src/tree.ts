import { lstat, mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandRunner, OperationContext } from '@imgbased/core';
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

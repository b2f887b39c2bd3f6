import { type CommandRunner, emit, type OperationContext, type PersistenceTrees, volumePath } from '@imgbased/core';
import { decodePath, encodePath } from '@imgbased/system';
import { changedInodes } from './ext4-inodes.js';
import { poolDelta } from './thin-delta.js';
import { listNames, listPaths, type RecordTree, walkTree } from './tree.js';

/** The three trees of a carry-over, listed only where the admin may have changed something. */
export interface DeltaTrees {
  readonly base: RecordTree;
  readonly layer: RecordTree;
  readonly next: RecordTree;
  /** How many inodes the pool's delta showed changed, and how many paths were listed for them. */
  readonly inodes: number;
  readonly paths: number;
}

/** One name of a names listing: its inode, its type (find's %y, from the directory entry) and path. */
interface Name {
  readonly ino: number;
  readonly type: string;
}

/**
 * The paths of the old base and the old layer whose inode the pool's delta shows changed, found in the
 * names of both trees (their directories only: no inode is read), with their own names by inode.
 */
function namesOf(listing: Buffer, prefix: number, inodes: ReadonlySet<number>): Map<string, Name> {
  const out = new Map<string, Name>();
  let pos = 0;
  while (pos < listing.length) {
    const head = listing.indexOf(0, pos);
    const end = listing.indexOf(0, head + 1);
    if (head < 0 || end < 0) break;
    // `INO TYPE`: the inode number's digits, parsed in place.
    let ino = 0;
    let i = pos;
    for (; listing[i] !== 0x20 && i < head; i++) ino = ino * 10 + listing[i]! - 0x30;
    if (inodes.has(ino))
      out.set(decodePath(listing, head + 1 + prefix, end) || '/', { ino, type: String.fromCharCode(listing[i + 1]!) });
    pos = end + 1;
  }
  return out;
}

/** The paths of a names listing at or below any of `dirs` (host paths' bytes compared in place). */
function under(listing: Buffer, dir: string, prefix: number, dirs: readonly string[]): string[] {
  const heads = dirs.map((d) => encodePath(`${dir}${d}/`));
  const out: string[] = [];
  let pos = 0;
  while (pos < listing.length) {
    const head = listing.indexOf(0, pos);
    const end = listing.indexOf(0, head + 1);
    if (head < 0 || end < 0) break;
    const start = head + 1;
    if (heads.some((h) => end - start >= h.length && listing.compare(h, 0, h.length, start, start + h.length) === 0))
      out.push(decodePath(listing, start + prefix, end));
    pos = end + 1;
  }
  return out;
}

/**
 * Lists the carry-over's trees where the thin pool says the old layer differs from the old base: the
 * changed inodes (ext4-inodes.ts) by their names in either tree, every name of those inodes (hard
 * links), the whole subtree of a directory that appeared, went or was moved (its entries kept their
 * inodes but changed their paths), and the parents of all of them up to the persisted roots (what the
 * plan checks for symlinks). The new layer is listed at the same paths, and whole below a directory
 * the admin removed or replaced. A superset of the paths the whole trees' comparison finds: none of
 * theirs is missed. Returns why not instead when the pool cannot say (then: the whole trees).
 */
export async function deltaTrees(
  runner: CommandRunner,
  trees: PersistenceTrees,
  roots: readonly string[],
  excluded: (path: string) => boolean,
  context?: OperationContext,
): Promise<DeltaTrees | string> {
  const volumes = trees.volumes;
  if (volumes === undefined) return 'the engine named no volumes';
  const delta = await poolDelta(runner, volumes, trees.oldLayer, context);
  if (!delta.ok) return delta.reason;
  const dev = (name: string) => volumePath({ vg: volumes.vg, name });
  const inodes = await changedInodes(dev(volumes.oldBase), dev(volumes.oldLayer), delta.ranges);
  if (typeof inodes === 'string') return inodes;

  const prefix = (dir: string) => Buffer.byteLength(dir.replace(/\/+$/, ''));
  const [baseListing, layerListing] = await Promise.all([
    listNames(runner, trees.oldBase, roots, context),
    listNames(runner, trees.oldLayer, roots, context),
  ]);
  const inBase = namesOf(baseListing, prefix(trees.oldBase), inodes);
  const inLayer = namesOf(layerListing, prefix(trees.oldLayer), inodes);
  const paths = new Set([...inBase.keys(), ...inLayer.keys()]);
  // A directory that is not the same inode at the same path on both sides: its whole subtree moved.
  const moved = [...paths].filter((p) => {
    const [b, l] = [inBase.get(p), inLayer.get(p)];
    return (b?.type === 'd' || l?.type === 'd') && b?.ino !== l?.ino;
  });
  if (moved.length > 0) {
    for (const p of under(baseListing, trees.oldBase, prefix(trees.oldBase), moved)) paths.add(p);
    for (const p of under(layerListing, trees.oldLayer, prefix(trees.oldLayer), moved)) paths.add(p);
  }
  const isRoot = (p: string) => roots.includes(p);
  for (const p of [...paths]) {
    if (isRoot(p)) continue;
    for (let q = p.slice(0, p.lastIndexOf('/')); q !== ''; q = q.slice(0, q.lastIndexOf('/'))) {
      if (!roots.some((r) => q === r || q.startsWith(`${r}/`))) break;
      paths.add(q);
      if (isRoot(q)) break;
    }
  }
  const listed = [...paths].sort();
  const [base, layer, next] = await Promise.all([
    listPaths(runner, trees.oldBase, listed, excluded, context, true),
    listPaths(runner, trees.oldLayer, listed, excluded, context, true),
    listPaths(runner, trees.newLayer, listed, excluded, context, false),
  ]);
  // A directory of the new base where the admin left none: the plan needs all that is in it.
  const emptied = listed.filter((p) => next.get(p)?.type === 'd' && layer.get(p)?.type !== 'd');
  const whole =
    emptied.length === 0 ? next : await listPaths(runner, trees.newLayer, listed, excluded, context, false, emptied);
  return { base, layer, next: whole, inodes: inodes.size, paths: listed.length };
}

/**
 * The trees the plan compares: where the thin pool's delta says the admin changed something when the
 * engine named the volumes and the pool can tell (deltaTrees), else the whole trees (walkTree: what any
 * pair of directories allows, and what the delta is tested against). The new layer's listing may still
 * be coming: the plan awaits it only once it has the admin's changes.
 */
export async function listTrees(
  runner: CommandRunner,
  trees: PersistenceTrees,
  roots: readonly string[],
  excluded: (path: string) => boolean,
  context?: OperationContext,
): Promise<{ base: RecordTree; layer: RecordTree; next: RecordTree | Promise<RecordTree> }> {
  if (trees.volumes !== undefined) {
    emit(context, { type: 'step', step: 'persistence.delta', message: 'Asking the thin pool what the admin changed' });
    const delta = await deltaTrees(runner, trees, roots, excluded, context);
    if (typeof delta !== 'string') {
      emit(context, {
        type: 'step',
        step: 'persistence.walk',
        message: `Listing ${delta.paths} paths of ${delta.inodes} changed inodes in three trees (thin_delta)`,
      });
      return delta;
    }
    emit(context, { type: 'step', step: 'persistence.walk', message: `Comparing the whole trees: ${delta}` });
  }
  emit(context, { type: 'step', step: 'persistence.walk', message: `Listing ${roots.join(', ')} in three trees` });
  const walk = (dir: string, snapshot: boolean) => walkTree(runner, dir, roots, excluded, context, snapshot);
  // The new layer is only compared across file systems: it goes without the snapshot fields. Its
  // listing's failure is handled by the plan; this keeps it from counting as unhandled meanwhile.
  const next = walk(trees.newLayer, false);
  next.catch(() => undefined);
  const [base, layer] = await Promise.all([walk(trees.oldBase, true), walk(trees.oldLayer, true)]);
  return { base, layer, next };
}

import {
  CancelledError,
  type CommandRunner,
  emit,
  type OperationContext,
  type PersistenceTrees,
  volumePath,
} from '@imgbased/core';
import { decodePath } from '@imgbased/system';
import { changedInodes } from './ext4-inodes.js';
import { type Name, namesOfInodes } from './ext4-names.js';
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

/** The names of a names listing (`INO TYPE LINKS \0 host path \0` each), by path inside the tree. */
function scanNames(listing: Buffer, prefix: number): Map<string, Name & { links: number }> {
  const out = new Map<string, Name & { links: number }>();
  let pos = 0;
  while (pos < listing.length) {
    const head = listing.indexOf(0, pos);
    const end = listing.indexOf(0, head + 1);
    if (head < 0 || end < 0) break;
    const [ino, type, links] = listing.toString('latin1', pos, head).split(' ');
    out.set(decodePath(listing, head + 1 + prefix, end) || '/', {
      ino: Number(ino),
      type: type!,
      links: Number(links),
    });
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
  const changedBytes = delta.ranges.reduce((sum, [start, end]) => sum + end - start, 0);
  const step = (message: string) => emit(context, { type: 'step', step: 'persistence.delta', message });
  step(`Reading the inodes in the ${(changedBytes / 2 ** 20).toFixed(1)} MiB that differ`);
  const inodes = await changedInodes(dev(volumes.oldBase), dev(volumes.oldLayer), delta.ranges);
  if (typeof inodes === 'string') return inodes;
  step(`Finding the names of ${inodes.size} changed inodes`);

  const prefix = (dir: string) => Buffer.byteLength(dir.replace(/\/+$/, ''));
  const inRoots = (p: string) => roots.some((r) => p === r || p.startsWith(`${r === '/' ? '' : r}/`));
  const named = async (name: string, of: Iterable<number>) => {
    const found = await namesOfInodes(dev(name), of);
    return typeof found === 'string' ? found : new Map([...found].filter(([p]) => inRoots(p)));
  };
  const [inBase, inLayer] = await Promise.all([named(volumes.oldBase, inodes), named(volumes.oldLayer, inodes)]);
  if (typeof inBase === 'string') return inBase;
  if (typeof inLayer === 'string') return inLayer;
  const paths = new Set([...inBase.keys(), ...inLayer.keys()]);
  // A directory that is not the same inode at the same path on both sides: its whole subtree moved.
  const moved = [...paths].filter((p) => {
    const [b, l] = [inBase.get(p), inLayer.get(p)];
    return (b?.type === 'd' || l?.type === 'd') && b?.ino !== l?.ino;
  });
  if (moved.length > 0) {
    const subtree = async (dir: string, from: ReadonlyMap<string, unknown>) => {
      const there = moved.filter((p) => from.has(p));
      const listing = await listNames(runner, dir, there, context);
      return [...scanNames(listing, prefix(dir))].filter(([p]) => !there.includes(p));
    };
    const inside = [...(await subtree(trees.oldBase, inBase)), ...(await subtree(trees.oldLayer, inLayer))];
    for (const [p] of inside) paths.add(p);
    // A file moved with its directory is carried whole, and with it its other names (hard links) elsewhere.
    const files = new Set(inside.filter(([, n]) => n.type !== 'd' && n.links > 1).map(([, n]) => n.ino));
    if (files.size > 0)
      for (const name of [volumes.oldBase, volumes.oldLayer]) {
        const others = await named(name, files);
        if (typeof others === 'string') return others;
        for (const [p] of others) paths.add(p);
      }
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
  step(`Listing ${listed.length} paths in three trees`);
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
    // Whatever goes wrong on the way (a name find cannot report, a device that cannot be read), the
    // whole trees still give the answer; only a cancellation stops.
    const delta = await deltaTrees(runner, trees, roots, excluded, context).catch((error: unknown) => {
      if (error instanceof CancelledError || context?.signal?.aborted) throw error;
      return `the delta failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    });
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

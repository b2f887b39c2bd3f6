import type {
  CommandRunner,
  ConflictPolicy,
  OperationContext,
  PersistenceConflict,
  PersistenceTrees,
} from '@imgbased/core';
import { nulList } from '@imgbased/system';
import { type Itemized, parseItemized } from './itemize.js';
import { ancestorsOf, entriesUnder, typeAt } from './tree-state.js';

/**
 * How two trees are compared: archive (-rlptgoD), hard links, ACLs, xattrs (with SELinux labels and
 * capabilities, as root), sparse files, numeric ids (no name mapping through the running host's
 * passwd), and `--checksum`: trees on different file systems can share size and modification time
 * while their contents differ, which rsync's quick check would take as equal.
 */
export const RSYNC_COMPARE = ['-aHAXS', '--checksum', '--numeric-ids'];
const ITEMIZE = '--out-format=%i %n';

type Change = 'added' | 'modified' | 'metadata' | 'deleted';

export interface RsyncPlan {
  /** Every admin change (old layer against old base), by path. */
  readonly changes: ReadonlyMap<string, Change>;
  /** Copied from the old layer (parents first). */
  readonly copy: readonly string[];
  /** Removed from the new layer before the copy (children first): the admin's deletions and type changes. */
  readonly remove: readonly string[];
  /** New-layer paths moved aside as PATH.imgnew (keep-admin conflicts). */
  readonly keepNew: readonly string[];
  /** Old-layer paths saved beside the new base's as PATH.imgsave (take-new-save-admin). */
  readonly save: readonly string[];
  /** Old-layer paths below a path that the new base made a non-directory, by that path (saved as PATH.imgsave/…). */
  readonly unplaced: ReadonlyMap<string, readonly string[]>;
  readonly deleted: readonly string[];
  readonly keptFromNewBase: readonly string[];
  readonly conflicts: readonly PersistenceConflict[];
}

const rel = (paths: Iterable<string>) => nulList([...paths].map((p) => p.slice(1)));

/**
 * The three-way plan, from rsync dry runs only (nothing is written): the admin's changes are what
 * differs between the old layer and the old base (`sources`: the persisted roots in the old layer, with
 * `excludes`); the new base changed a path when the old base and the new layer differ there; both
 * changed it the same way when the old layer and the new layer do not differ there.
 */
export async function planRsync(
  runner: CommandRunner,
  trees: PersistenceTrees,
  sources: { readonly roots: readonly string[]; readonly excludes: readonly string[] },
  policyFor: (path: string) => ConflictPolicy,
  context?: OperationContext,
): Promise<RsyncPlan> {
  const { oldBase, oldLayer, newLayer } = trees;
  const dir = (tree: string) => `${tree.replace(/\/+$/, '')}/`;
  const excludes = sources.excludes.map((e) => `--exclude=${e}`);
  const wholeTrees = async (from: string, to: string): Promise<Itemized> => {
    const roots: string[] = [];
    for (const r of sources.roots) if ((await typeAt(from, r)) !== undefined) roots.push(`${dir(from)}.${r}`);
    if (roots.length === 0) return { changed: new Map(), deleted: [] };
    const args = [...RSYNC_COMPARE, '--relative', '--force', '--delete', ITEMIZE, ...excludes];
    const { stdout } = await runner.run(
      { argv: ['rsync', '--dry-run', ...args, '--', ...roots, dir(to)], mutates: false },
      context,
    );
    return parseItemized(stdout);
  };
  /** The listed paths where two trees differ (missing on one side included). */
  const differing = async (from: string, to: string, paths: readonly string[]): Promise<Set<string>> => {
    if (paths.length === 0) return new Set();
    const args = [...RSYNC_COMPARE, '--files-from=-', '--from0', '--delete-missing-args', ITEMIZE];
    const { stdout } = await runner.run(
      {
        argv: ['rsync', '--dry-run', ...args, '--', dir(from), dir(to)],
        input: rel(paths),
        mutates: false,
        // 24: some listed paths are not in the source; --delete-missing-args reports them as deletions.
        okExitCodes: [0, 24],
      },
      context,
    );
    const listed = parseItemized(stdout);
    const asked = new Set(paths);
    return new Set([...listed.changed.keys(), ...listed.deleted].filter((p) => asked.has(p)));
  };

  const admin = await wholeTrees(oldLayer, oldBase);
  const changes = new Map<string, Change>();
  for (const p of admin.deleted) changes.set(p, 'deleted');
  for (const [p, flags] of admin.changed) {
    const inBase = (await typeAt(oldBase, p)) !== undefined;
    changes.set(p, !inBase ? 'added' : flags[0] === '.' ? 'metadata' : 'modified');
  }
  const changed = [...changes.keys()].sort();
  const byNewBase = await differing(oldBase, newLayer, changed);
  const notSame = await differing(
    oldLayer,
    newLayer,
    changed.filter((p) => byNewBase.has(p)),
  );
  const news = await wholeTrees(newLayer, oldBase);
  const keptFromNewBase = [...new Set([...news.changed.keys(), ...news.deleted])].filter((p) => !changes.has(p)).sort();

  const typeA = new Map<string, string | undefined>();
  const typeN = new Map<string, string | undefined>();
  const a = async (p: string) => (typeA.has(p) ? typeA.get(p) : typeA.set(p, await typeAt(oldLayer, p)).get(p));
  const n = async (p: string) => (typeN.has(p) ? typeN.get(p) : typeN.set(p, await typeAt(newLayer, p)).get(p));

  const apply = new Set<string>();
  const keepNew = new Set<string>();
  const save = new Set<string>();
  const conflicts = new Map<string, PersistenceConflict>();
  const conflict = async (path: string, reason: string, aside?: boolean) => {
    const policy = policyFor(path);
    const resolution = policy === 'keep-admin' ? 'kept-admin' : policy === 'fail' ? 'failed' : 'took-new-saved-admin';
    const [mine, theirs] = [await a(path), await n(path)];
    let savedAs: string | undefined;
    if (resolution === 'took-new-saved-admin' && mine !== undefined && mine !== 'd') {
      save.add(path);
      savedAs = `${path}.imgsave`;
    } else if (resolution === 'kept-admin' && (aside ?? (theirs !== undefined && theirs !== 'd'))) {
      keepNew.add(path);
      savedAs = `${path}.imgnew`;
    }
    conflicts.set(path, { path, reason, resolution, ...(savedAs === undefined ? {} : { savedAs }) });
    if (resolution === 'kept-admin') apply.add(path);
  };
  const forget = (p: string) => {
    for (const set of [apply, keepNew, save]) set.delete(p);
    conflicts.delete(p);
  };
  for (const p of changed) {
    if (!byNewBase.has(p)) apply.add(p);
    else if (notSame.has(p)) await conflict(p, `${changes.get(p)} by the admin, ${await newChange(p)} by the new base`);
  }
  async function newChange(p: string): Promise<string> {
    const [before, after] = [await typeAt(oldBase, p), await n(p)];
    return before === undefined ? 'added' : after === undefined ? 'deleted' : 'modified';
  }

  // A directory the admin deleted or replaced must hold nothing else in the new base: else a conflict,
  // whose kept-admin resolution moves the new base's directory aside whole.
  for (const p of [...apply]) {
    if ((await n(p)) !== 'd' || (await a(p)) === 'd') continue;
    const others = (await entriesUnder(newLayer, p)).filter((q) => !(apply.has(q) && changes.get(q) === 'deleted'));
    if (others.length === 0) continue;
    forget(p);
    await conflict(p, `${changes.get(p)} by the admin; the new base has ${others.length} other entries in it`, true);
  }

  // Never write through what the new base made a non-directory: such a path is saved below PATH.imgsave/.
  const unplaced = new Map<string, Set<string>>();
  for (const p of [...apply, ...save]) {
    if (changes.get(p) === 'deleted' && apply.has(p)) continue;
    const ancestors = ancestorsOf(p);
    let blocker: string | undefined;
    for (const q of ancestors) {
      const t = await n(q);
      if (t !== undefined && t !== 'd' && !(apply.has(q) && (await a(q)) === 'd')) {
        blocker = q;
        break;
      }
    }
    if (blocker === undefined) continue;
    forget(p);
    const failed = policyFor(p) === 'fail';
    conflicts.set(p, {
      path: p,
      reason: `${changes.get(p)} by the admin, but ${blocker} is not a directory in the new base`,
      resolution: failed ? 'failed' : 'took-new-saved-admin',
      ...(failed ? {} : { savedAs: `${blocker}.imgsave${p.slice(blocker.length)}` }),
    });
    if (failed) continue;
    const group = unplaced.get(blocker) ?? new Set([blocker]);
    for (const q of ancestors.slice(ancestors.indexOf(blocker) + 1)) group.add(q);
    group.add(p);
    unplaced.set(blocker, group);
  }

  const deleted = [...apply].filter((p) => changes.get(p) === 'deleted');
  const copy = [...apply].filter((p) => changes.get(p) !== 'deleted');
  const remove: string[] = deleted.filter((p) => !keepNew.has(p));
  for (const p of copy) {
    const theirs = await n(p);
    if (!keepNew.has(p) && theirs !== undefined && theirs !== (await a(p))) remove.push(p);
  }
  const byDepthDesc = (x: string, y: string) => y.split('/').length - x.split('/').length || (x < y ? -1 : 1);
  return {
    changes,
    copy: copy.sort(),
    remove: remove.sort(byDepthDesc),
    keepNew: [...keepNew].sort(),
    save: [...save].sort(),
    unplaced: new Map([...unplaced].map(([b, paths]) => [b, [...paths].sort()])),
    deleted: deleted.sort(),
    keptFromNewBase,
    conflicts: [...conflicts.values()].sort((x, y) => (x.path < y.path ? -1 : 1)),
  };
}

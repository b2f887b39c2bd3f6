import type { ConflictPolicy, PersistenceConflict } from '@imgbased/core';
import { type Change, classify, describe, differing, type Probe, quickEqual } from './classify.js';
import { sameQuick, type Tree } from './tree.js';

export type { Change, Probe } from './classify.js';

export interface PlannedConflict extends PersistenceConflict {}

export interface Plan {
  /** Admin changes of the old layer, as they are packed in the delta. */
  readonly changes: ReadonlyMap<string, Exclude<Change, 'same'>>;
  /** Old-layer paths packed in the delta (parents first). */
  readonly pack: readonly string[];
  /** Paths removed from the new layer before extraction (children first). */
  readonly remove: readonly string[];
  /** Delta members extracted into the new layer (parents first). */
  readonly extract: readonly string[];
  /** Paths whose admin version is saved beside the new base's as PATH.imgsave (take-new-save-admin). */
  readonly save: readonly string[];
  /** New-layer paths moved aside as PATH.imgnew before the admin's version takes their place (keep-admin). */
  readonly keepNew: readonly string[];
  /**
   * The admin's paths below a path that the new base made something other than a directory (a symlink,
   * a file), by that path: what is saved as PATH.imgsave/… (it and the directories down to them, parents
   * first), since nothing is written through it.
   */
  readonly unplaced: ReadonlyMap<string, readonly string[]>;
  readonly copied: readonly string[];
  readonly deleted: readonly string[];
  readonly keptFromNewBase: readonly string[];
  readonly conflicts: readonly PlannedConflict[];
}

/** Up to this many candidate paths, their xattrs are read in all three trees before they are classified. */
const EARLY_XATTRS = 4096;

const parentOf = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
const byDepthDesc = (a: string, b: string) => b.split('/').length - a.split('/').length || (a < b ? -1 : 1);

/**
 * The three-way plan. `skip` are paths merged elsewhere (the account databases). Nothing is written:
 * a conflict under `fail` is only listed with resolution `failed`. The admin's changes are found before
 * the new layer's listing is awaited, so that the two overlap.
 */
export async function planCarryOver(
  trees: { readonly base: Tree; readonly layer: Tree; readonly next: Tree | Promise<Tree> },
  probe: Probe,
  policyFor: (path: string) => ConflictPolicy,
  skip: ReadonlySet<string>,
): Promise<Plan> {
  const { base, layer } = trees;
  // The layer is a block-level snapshot of the base: an entry whose raw record (inode, ctime, mtime,
  // size, mode, owner, link) is the same in both is untouched, and only the others are classified.
  const candidates = differing(base, layer, false).filter((p) => !skip.has(p));
  // The xattrs of every candidate in all three trees at once: one getfattr, read while the contents are
  // compared and the new layer is listed, rather than one for the admin's side and one more after. Not
  // when most entries are candidates (a layer that is no snapshot): then only the changes are told.
  const early = candidates.length <= EARLY_XATTRS;
  if (early) probe.changed?.(candidates);
  const admin = await classify(candidates, { name: 'base', tree: base }, { name: 'layer', tree: layer }, probe, true);
  const changes = new Map<string, Exclude<Change, 'same'>>();
  for (const p of candidates.sort()) {
    const c = admin.get(p)!;
    if (c !== 'same') changes.set(p, c);
  }
  const changed = [...changes.keys()];
  if (!early) probe.changed?.(changed);
  // The new layer is only needed from here on: its listing may still be coming (it is the cold one).
  const next = await trees.next;
  const onNew = await classify(changed, { name: 'base', tree: base }, { name: 'new', tree: next }, probe, false);
  // Was the new base's change the same as the admin's? Only asked where both changed.
  const both = changed.filter((p) => onNew.get(p) !== 'same');
  const adminVsNew = await classify(both, { name: 'layer', tree: layer }, { name: 'new', tree: next }, probe, false);

  const apply = new Set<string>();
  const save = new Set<string>();
  const keepNew = new Set<string>();
  const conflicts = new Map<string, PlannedConflict>();
  /**
   * Records a conflict under the path's policy; true when the admin's version is to be written. Kept:
   * the new base's version is moved aside as PATH.imgnew (`aside`: by default when it is no directory);
   * taken: the admin's is saved as PATH.imgsave (not a directory, nor a deletion).
   */
  const conflict = (path: string, reason: string, aside = next.has(path) && next.get(path)!.type !== 'd') => {
    const policy = policyFor(path);
    const resolution = policy === 'keep-admin' ? 'kept-admin' : policy === 'fail' ? 'failed' : 'took-new-saved-admin';
    let savedAs: string | undefined;
    if (resolution === 'took-new-saved-admin' && layer.has(path) && layer.get(path)!.type !== 'd') {
      save.add(path);
      savedAs = `${path}.imgsave`;
    } else if (resolution === 'kept-admin' && aside) {
      keepNew.add(path);
      savedAs = `${path}.imgnew`;
    }
    conflicts.set(path, { path, reason, resolution, ...(savedAs === undefined ? {} : { savedAs }) });
    return resolution === 'kept-admin';
  };
  const forget = (p: string) => {
    apply.delete(p);
    save.delete(p);
    keepNew.delete(p);
    conflicts.delete(p);
  };
  for (const p of changed) {
    if (onNew.get(p) === 'same') apply.add(p);
    else if (adminVsNew.get(p) === 'same') continue;
    else if (conflict(p, `${describe(changes.get(p)!)} by the admin, ${describe(onNew.get(p)!)} by the new base`))
      apply.add(p);
  }

  // Hard links: every name of an inode that is carried over is carried with it (and checked below).
  // (The inode index is built only when such a file is carried: it needs every entry of the layer.)
  let byInode: Map<number, string[]> | undefined;
  const namesOf = (ino: number): string[] => {
    if (byInode === undefined) {
      byInode = new Map();
      for (const p of layer.keys()) {
        const r = layer.record?.(p);
        if (r !== undefined && (r[0] !== 'f' || r.slice(r.lastIndexOf('\0') + 1).split(' ')[1] === '1')) continue;
        const e = layer.get(p);
        if (e?.type === 'f' && e.nlink > 1 && !skip.has(p)) byInode.set(e.ino, [...(byInode.get(e.ino) ?? []), p]);
      }
    }
    return byInode.get(ino) ?? [];
  };
  const pack = new Set([...changes].filter(([, c]) => c !== 'deleted').map(([p]) => p));
  for (const p of [...apply]) {
    const e = layer.get(p);
    if (e?.type !== 'f' || e.nlink < 2) continue;
    for (const q of namesOf(e.ino)) {
      pack.add(q);
      if (!conflicts.has(q)) apply.add(q);
    }
  }

  // A directory removed from the new layer (deleted or replaced by the admin) must hold nothing else:
  // else a conflict, whose kept-admin resolution moves the new base's directory aside whole.
  // The new layer's paths, sorted once when first needed: those under a directory are one contiguous run.
  let sortedNext: string[] | undefined;
  const under = (dir: string): string[] => {
    sortedNext ??= [...next.keys()].sort();
    const prefix = `${dir}/`;
    let lo = 0;
    let hi = sortedNext.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sortedNext[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const found: string[] = [];
    for (let i = lo; i < sortedNext.length && sortedNext[i]!.startsWith(prefix); i++) found.push(sortedNext[i]!);
    return found;
  };
  for (const p of [...apply]) {
    const n = next.get(p);
    if (n?.type !== 'd' || layer.get(p)?.type === 'd') continue;
    const others = under(p).filter((q) => !(apply.has(q) && !layer.has(q)));
    if (others.length > 0) {
      forget(p);
      const reason = `${describe(changes.get(p)!)} by the admin; the new base has ${others.length} other entries in it`;
      if (conflict(p, reason, true)) apply.add(p);
    }
  }

  // Never write through a symlink: every parent of what is written must be a real directory. A path
  // below one the new base made a non-directory is saved below PATH.imgsave/ instead (or fails).
  // Directories above the persisted paths (`/srv` of `/srv/app`) are in no listing: they are not the
  // carry-over's to judge (the writer refuses to write through a symlink there).
  const listed = (p: string) => base.has(p) || layer.has(p) || next.has(p);
  const isDirAfter = (p: string): boolean => {
    if (!listed(p)) return true;
    if (apply.has(p)) return layer.get(p)?.type === 'd';
    const n = next.get(p);
    return n === undefined ? layer.get(p)?.type === 'd' && isDirAfter(parentOf(p)) : n.type === 'd';
  };
  // (What is removed is removed before anything is extracted: its parents are checked as they are now.)
  const isDirNow = (q: string) => next.get(q)?.type === 'd';
  const unplaced = new Map<string, Set<string>>();
  for (const p of [...apply, ...save]) {
    const removal = apply.has(p) && !layer.has(p);
    if (removal && !next.has(p)) continue;
    const ancestors: string[] = [];
    for (let q = parentOf(p); q !== '/'; q = parentOf(q)) if (listed(q)) ancestors.unshift(q);
    const blocker = ancestors.find((q) => !(removal ? isDirNow(q) : isDirAfter(q)));
    if (blocker === undefined) continue;
    forget(p);
    const failed = policyFor(p) === 'fail';
    const saved = !failed && !removal;
    conflicts.set(p, {
      path: p,
      reason: `${describe(changes.get(p) ?? 'modified')} by the admin, but ${blocker} is not a directory in the new base`,
      resolution: failed ? 'failed' : 'took-new-saved-admin',
      ...(saved ? { savedAs: `${blocker}.imgsave${p.slice(blocker.length)}` } : {}),
    });
    if (!saved) continue;
    const group = unplaced.get(blocker) ?? new Set([blocker]);
    for (const q of ancestors.slice(ancestors.indexOf(blocker) + 1)) group.add(q);
    group.add(p);
    unplaced.set(blocker, group);
  }

  const remove = [...apply].filter(
    (p) => next.has(p) && !keepNew.has(p) && (!layer.has(p) || layer.get(p)!.type !== next.get(p)!.type),
  );
  const extract = [...apply].filter((p) => layer.has(p)).sort();
  // What the new base changed where the admin did not: a pass over both listings, made when it is first
  // read (the caller reads it while tar streams, so that it costs no time of its own).
  let kept: string[] | undefined;
  const keptFromNewBase = (): string[] => {
    if (kept !== undefined) return kept;
    kept = [];
    const list = kept;
    const keptIfChanged = (p: string) => {
      if (skip.has(p) || changes.has(p) || apply.has(p) || sameQuick(base, next, p)) return;
      const b = base.get(p);
      const n = next.get(p);
      if (b === undefined || n === undefined || !quickEqual(b, n)) list.push(p);
    };
    for (const p of differing(base, next, true)) keptIfChanged(p);
    return list.sort();
  };
  return {
    changes,
    pack: [...pack].sort(),
    remove: remove.sort(byDepthDesc),
    extract,
    save: [...save].sort(),
    keepNew: [...keepNew].sort(),
    unplaced: new Map([...unplaced].map(([b, paths]) => [b, [...paths].sort()])),
    copied: extract,
    deleted: [...apply].filter((p) => !layer.has(p)).sort(),
    get keptFromNewBase() {
      return keptFromNewBase();
    },
    conflicts: [...conflicts.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
}

import type { ConflictPolicy, PersistenceConflict } from '@imgbased/core';
import { type Entry, inParallel, RecordTree, sameQuick, sameRecord, type Tree } from './tree.js';

/** How one path differs between two trees. */
export type Change = 'same' | 'added' | 'deleted' | 'modified' | 'metadata';

/** The slow half of a comparison, for entries whose cheap metadata are equal. */
export interface Probe {
  /** Regular files: same bytes. */
  sameContent(left: 'base' | 'layer' | 'new', right: 'base' | 'layer' | 'new', path: string): Promise<boolean>;
  /** Extended attributes (SELinux label, ACLs, capabilities, user.*) of paths, as comparable strings. */
  xattrs(tree: 'base' | 'layer' | 'new', paths: readonly string[]): Promise<Map<string, string>>;
  /**
   * Told the paths the admin may have changed (a superset of the changes) as soon as they are known: it
   * may start reading their xattrs in every tree.
   */
  changed?(paths: readonly string[]): void;
}

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
  /** Paths whose admin version is saved as PATH.imgsave. */
  readonly save: readonly string[];
  readonly copied: readonly string[];
  readonly deleted: readonly string[];
  readonly keptFromNewBase: readonly string[];
  readonly conflicts: readonly PlannedConflict[];
}

const metaEqual = (a: Entry, b: Entry) => a.type === b.type && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
/** Everything but xattrs and content bytes, for a quick check (like rsync's size + mtime). */
const quickEqual = (a: Entry, b: Entry) =>
  metaEqual(a, b) && a.link === b.link && (a.type !== 'f' || (a.size === b.size && a.mtime === b.mtime));

/**
 * Classifies paths between two trees. `clone` enables the fast path of a layer that is a block-level
 * snapshot of its base: an entry with the same inode number, ctime, mtime and size was not touched
 * (any change of content, mode, owner, xattrs or link count moves ctime).
 */
export async function classify(
  paths: readonly string[],
  left: { readonly name: 'base' | 'layer' | 'new'; readonly tree: Tree },
  right: { readonly name: 'base' | 'layer' | 'new'; readonly tree: Tree },
  probe: Probe,
  clone: boolean,
): Promise<Map<string, Change>> {
  const out = new Map<string, Change>();
  const deep: string[] = [];
  for (const path of paths) {
    // The fast path of 50,000 untouched entries: one string comparison, nothing parsed.
    if (clone && sameRecord(left.tree, right.tree, path)) {
      out.set(path, 'same');
      continue;
    }
    const l = left.tree.get(path);
    const r = right.tree.get(path);
    if (l === undefined && r === undefined) out.set(path, 'same');
    else if (l === undefined) out.set(path, 'added');
    else if (r === undefined) out.set(path, 'deleted');
    else if (l.type !== r.type || l.link !== r.link || (l.type === 'f' && l.size !== r.size)) out.set(path, 'modified');
    else if (clone && l.ino === r.ino && l.ctime === r.ctime && l.mtime === r.mtime && l.size === r.size) {
      out.set(path, 'same');
    } else deep.push(path);
  }
  // Bytes are compared unless a file kept its size and mtime across different file systems (rsync's quick
  // check: a package or an editor that changes a file changes its mtime).
  const files = deep.filter(
    (p) => left.tree.get(p)!.type === 'f' && (clone || left.tree.get(p)!.mtime !== right.tree.get(p)!.mtime),
  );
  const contentSame = new Map<string, boolean>();
  await inParallel(files, 16, async (p) => {
    contentSame.set(p, await probe.sameContent(left.name, right.name, p));
  });
  const rest = deep.filter((p) => contentSame.get(p) !== false);
  for (const p of deep) if (contentSame.get(p) === false) out.set(p, 'modified');
  const [lx, rx] = await Promise.all([probe.xattrs(left.name, rest), probe.xattrs(right.name, rest)]);
  for (const p of rest) {
    const same = metaEqual(left.tree.get(p)!, right.tree.get(p)!) && lx.get(p) === rx.get(p);
    out.set(p, same ? 'same' : 'metadata');
  }
  return out;
}

/**
 * The paths whose raw records (`quick`: quick parts) differ between two trees, or that only one lists.
 * Two listings of find are compared in place, without a lookup table of strings; other trees path by path.
 */
function differing(a: Tree, b: Tree, quick: boolean): string[] {
  if (a instanceof RecordTree && b instanceof RecordTree) return a.differing(b, quick);
  const out: string[] = [];
  for (const p of a.keys()) if (!(quick ? sameQuick(a, b, p) : sameRecord(a, b, p))) out.push(p);
  for (const p of b.keys()) if (!a.has(p)) out.push(p);
  return out;
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
  const conflicts = new Map<string, PlannedConflict>();
  const conflict = (path: string, reason: string) => {
    const policy = policyFor(path);
    const resolution = policy === 'keep-admin' ? 'kept-admin' : policy === 'fail' ? 'failed' : 'took-new-saved-admin';
    const saveIt =
      resolution === 'took-new-saved-admin' && layer.get(path) !== undefined && layer.get(path)!.type !== 'd';
    if (saveIt) save.add(path);
    conflicts.set(path, { path, reason, resolution, ...(saveIt ? { savedAs: `${path}.imgsave` } : {}) });
    return resolution === 'kept-admin';
  };
  for (const p of changed) {
    if (onNew.get(p) === 'same') apply.add(p);
    else if (adminVsNew.get(p) === 'same') continue;
    else if (conflict(p, `${describe(changes.get(p)!)} by the admin, ${describe(onNew.get(p)!)} by the new base`))
      apply.add(p);
  }

  // A directory removed from the new layer (deleted or replaced by the admin) must hold nothing else.
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
      apply.delete(p);
      conflicts.delete(p);
      save.delete(p);
      if (
        conflict(p, `${describe(changes.get(p)!)} by the admin; the new base has ${others.length} other entries in it`)
      ) {
        apply.add(p);
        for (const q of others) apply.add(q);
      }
    }
  }

  // Never write through a symlink: every parent of what is written must be a real directory.
  const isDirAfter = (p: string): boolean => {
    if (apply.has(p)) return layer.get(p)?.type === 'd';
    const n = next.get(p);
    return n === undefined ? layer.get(p)?.type === 'd' && isDirAfter(parentOf(p)) : n.type === 'd';
  };
  // (What is removed is removed before anything is extracted: its parents are checked as they are now.)
  const isDirNow = (q: string) => next.get(q)?.type === 'd';
  for (const p of [...apply, ...save]) {
    const removal = apply.has(p) && !layer.has(p);
    if (removal && !next.has(p)) continue;
    for (let q = parentOf(p); q !== '/'; q = parentOf(q)) {
      if (!(removal ? isDirNow(q) : isDirAfter(q))) {
        apply.delete(p);
        save.delete(p);
        const policy = policyFor(p);
        conflicts.set(p, {
          path: p,
          reason: `${describe(changes.get(p) ?? 'modified')} by the admin, but ${q} is not a directory in the new base`,
          resolution: policy === 'fail' ? 'failed' : 'took-new-saved-admin',
        });
        break;
      }
    }
  }

  // Hard links: every name of an inode that is carried over is carried with it.
  // (The inode index is built only when such a file is carried: it needs every entry of the layer.)
  let byInode: Map<number, string[]> | undefined;
  const namesOf = (ino: number): string[] => {
    if (byInode === undefined) {
      byInode = new Map();
      for (const p of layer.keys()) {
        const r = layer.record?.(p);
        if (r !== undefined && (r[0] !== 'f' || r.slice(r.lastIndexOf('\0') + 1).split(' ')[1] === '1')) continue;
        const e = layer.get(p)!;
        if (e.type === 'f' && e.nlink > 1 && !skip.has(p)) byInode.set(e.ino, [...(byInode.get(e.ino) ?? []), p]);
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

  const remove = [...apply].filter((p) => next.has(p) && (!layer.has(p) || layer.get(p)!.type !== next.get(p)!.type));
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
    copied: extract,
    deleted: [...apply].filter((p) => !layer.has(p)).sort(),
    get keptFromNewBase() {
      return keptFromNewBase();
    },
    conflicts: [...conflicts.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
}

function describe(change: Change): string {
  return change === 'added'
    ? 'added'
    : change === 'deleted'
      ? 'deleted'
      : change === 'metadata'
        ? 'metadata changed'
        : 'modified';
}

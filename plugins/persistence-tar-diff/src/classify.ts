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

export const metaEqual = (a: Entry, b: Entry) =>
  a.type === b.type && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
/** Everything but xattrs and content bytes, for a quick check (like rsync's size + mtime). */
export const quickEqual = (a: Entry, b: Entry) =>
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
export function differing(a: Tree, b: Tree, quick: boolean): string[] {
  if (a instanceof RecordTree && b instanceof RecordTree) return a.differing(b, quick);
  const out: string[] = [];
  for (const p of a.keys()) if (!(quick ? sameQuick(a, b, p) : sameRecord(a, b, p))) out.push(p);
  for (const p of b.keys()) if (!a.has(p)) out.push(p);
  return out;
}

export function describe(change: Change): string {
  return change === 'added'
    ? 'added'
    : change === 'deleted'
      ? 'deleted'
      : change === 'metadata'
        ? 'metadata changed'
        : 'modified';
}

import type { TreeEntry } from '../../contracts/host-admin.js';
import type { TreeChangeKind } from '../../layout/admin-schema.js';

export interface TreeComparison {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: { path: string; changes: TreeChangeKind[] }[];
  /** Regular files of equal size whose times differ: their bytes decide whether `content` changed. */
  readonly toCompare: string[];
}

/**
 * Compares two trees' entries by path: added, removed, and what changed of a path in both (its type,
 * mode, owner, xattrs, link target, device numbers; a regular file's content when the sizes differ).
 * A regular file of the same size and modification time counts as unchanged (the quick check rsync
 * makes: layers are snapshots, so an untouched file keeps both); one whose time differs is listed in
 * `toCompare` for its bytes to decide.
 */
export function compareTrees(a: readonly TreeEntry[], b: readonly TreeEntry[]): TreeComparison {
  const before = new Map(a.map((e) => [e.path, e]));
  const after = new Map(b.map((e) => [e.path, e]));
  const added = b.filter((e) => !before.has(e.path)).map((e) => e.path);
  const removed = a.filter((e) => !after.has(e.path)).map((e) => e.path);
  const changed: TreeComparison['changed'] = [];
  const toCompare: string[] = [];
  for (const old of a) {
    const now = after.get(old.path);
    if (!now) continue;
    if (old.type !== now.type) {
      changed.push({ path: old.path, changes: ['type'] });
      continue;
    }
    const changes: TreeChangeKind[] = [];
    if (old.type === 'file' && old.size !== now.size) changes.push('content');
    if (old.type === 'symlink' && old.target !== now.target) changes.push('link-target');
    if (old.type === 'other' && old.special !== now.special) changes.push('device');
    if (old.type !== 'symlink' && old.mode !== now.mode) changes.push('mode');
    if (old.uid !== now.uid || old.gid !== now.gid) changes.push('owner');
    if (old.xattrs !== undefined && now.xattrs !== undefined && !sameRecord(old.xattrs, now.xattrs))
      changes.push('xattrs');
    if (changes.length > 0) changed.push({ path: old.path, changes });
    if (old.type === 'file' && old.size === now.size && old.mtimeMs !== now.mtimeMs) toCompare.push(old.path);
  }
  return { added, removed, changed, toCompare };
}

/** Adds `content` to a path's changes (in path order). */
export function addContentChange(changed: TreeComparison['changed'], path: string): void {
  const found = changed.find((c) => c.path === path);
  if (found) found.changes.unshift('content');
  else {
    changed.push({ path, changes: ['content'] });
    changed.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  }
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

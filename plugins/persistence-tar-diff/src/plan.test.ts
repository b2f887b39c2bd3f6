import { describe, expect, it } from 'vitest';
import { type Probe, planCarryOver } from './plan.js';
import type { Entry } from './tree.js';

type Tree = Map<string, Entry>;

let inode = 100;
function entry(type: string, extra: Partial<Entry> = {}): Entry {
  return {
    type,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 1,
    ino: inode++,
    nlink: 1,
    mtime: '1',
    ctime: '1',
    link: '',
    ...extra,
  };
}
const tree = (entries: Record<string, Entry>): Tree => new Map(Object.entries(entries));
/** A tree whose entries are the same inodes as `from` (a block-level snapshot), with `changes` on top. */
const snapshot = (from: Tree, changes: Record<string, Entry | undefined>): Tree => {
  const t = new Map(from);
  for (const [p, e] of Object.entries(changes)) {
    if (e === undefined) t.delete(p);
    else t.set(p, e);
  }
  return t;
};
/** Content is told by `size`, xattrs by a per-tree table. */
const probe = (xattrs: Partial<Record<'base' | 'layer' | 'new', Record<string, string>>> = {}): Probe => ({
  sameContent: async () => true,
  xattrs: async (t, paths) => new Map(paths.map((p) => [p, xattrs[t]?.[p] ?? ''])),
});

const base = tree({
  '/etc': entry('d'),
  '/etc/a': entry('f'),
  '/etc/b': entry('f'),
  '/etc/c': entry('f'),
  '/etc/d': entry('d'),
  '/etc/d/x': entry('f'),
});

describe('planCarryOver', () => {
  it('treats a directory the admin deleted, which the new base filled with more entries, as a conflict', async () => {
    const layer = snapshot(base, { '/etc/d': undefined, '/etc/d/x': undefined });
    const next = tree({
      ...Object.fromEntries(base),
      '/etc/d/y': entry('f'),
      '/etc/d/z': entry('d'),
      '/etc/d/z/w': entry('f'),
      '/etc/dd': entry('f'), // shares the prefix "/etc/d" but is not inside the directory
    });
    const kept = await planCarryOver({ base, layer, next }, probe(), () => 'keep-admin', new Set());
    expect(kept.conflicts).toEqual([
      {
        path: '/etc/d',
        reason: 'deleted by the admin; the new base has 3 other entries in it',
        resolution: 'kept-admin',
        savedAs: '/etc/d.imgnew',
      },
    ]);
    // The admin's deletion stands; the new base's directory, with what the admin did not delete, moves aside.
    expect(kept.deleted).toEqual(['/etc/d', '/etc/d/x']);
    expect(kept.remove).toEqual(['/etc/d/x']);
    expect(kept.keepNew).toEqual(['/etc/d']);
    const took = await planCarryOver({ base, layer, next }, probe(), () => 'take-new-save-admin', new Set());
    expect(took.deleted).toEqual(['/etc/d/x']); // x: unchanged by the new base, so the admin's deletion stands
    expect(took.conflicts.map((c) => c.resolution)).toEqual(['took-new-saved-admin']);
  });

  it('applies what only the admin changed, keeps what only the new base changed, reports both-side changes', async () => {
    const layer = snapshot(base, {
      '/etc/a': entry('f', { size: 2 }),
      '/etc/b': undefined,
      '/etc/c': { ...base.get('/etc/c')!, ctime: '2', mode: 0o600 },
      '/etc/new': entry('f'),
    });
    const next = tree({
      ...Object.fromEntries(base),
      '/etc/c': entry('f', { size: 9 }),
      '/etc/d/x': entry('f', { size: 3 }),
    });
    const plan = await planCarryOver({ base, layer, next }, probe(), () => 'keep-admin', new Set());
    expect(plan.copied).toEqual(['/etc/a', '/etc/c', '/etc/new']);
    expect(plan.deleted).toEqual(['/etc/b']);
    expect(plan.keptFromNewBase).toEqual(['/etc/d/x']);
    expect(plan.conflicts).toEqual([
      {
        path: '/etc/c',
        reason: 'metadata changed by the admin, modified by the new base',
        resolution: 'kept-admin',
        savedAs: '/etc/c.imgnew',
      },
    ]);
    expect(plan.remove).toEqual(['/etc/b']);
    expect(plan.keepNew).toEqual(['/etc/c']);
  });

  it('finds xattr-only changes, and ignores a ctime change with nothing else', async () => {
    const layer = snapshot(base, {
      '/etc/a': { ...base.get('/etc/a')!, ctime: '5' },
      '/etc/b': { ...base.get('/etc/b')!, ctime: '5' },
    });
    const plan = await planCarryOver(
      { base, layer, next: base },
      probe({ layer: { '/etc/a': 'user.x=0x01' } }),
      () => 'fail',
      new Set(),
    );
    expect([...plan.changes]).toEqual([['/etc/a', 'metadata']]);
  });

  it('saves the admin version beside the new one under take-new-save-admin, fails under fail', async () => {
    const layer = snapshot(base, { '/etc/a': entry('f', { size: 2 }) });
    const next = snapshot(base, { '/etc/a': entry('f', { size: 3 }) });
    const saved = await planCarryOver({ base, layer, next }, probe(), () => 'take-new-save-admin', new Set());
    expect(saved.save).toEqual(['/etc/a']);
    expect(saved.extract).toEqual([]);
    expect(saved.conflicts[0]).toMatchObject({ resolution: 'took-new-saved-admin', savedAs: '/etc/a.imgsave' });
    const failed = await planCarryOver({ base, layer, next }, probe(), () => 'fail', new Set());
    expect(failed.conflicts[0]).toMatchObject({ resolution: 'failed' });
    expect(failed.extract).toEqual([]);
  });

  it('never plans a write below a parent that the new base made a symlink: saves it below PARENT.imgsave', async () => {
    const layer = snapshot(base, { '/etc/d/new': entry('f'), '/etc/d/e': entry('d'), '/etc/d/e/f': entry('f') });
    const next = snapshot(base, { '/etc/d': entry('l', { link: '/outside' }), '/etc/d/x': undefined });
    const plan = await planCarryOver({ base, layer, next }, probe(), () => 'keep-admin', new Set());
    expect(plan.extract).toEqual([]);
    expect(plan.conflicts).toEqual([
      {
        path: '/etc/d/e',
        reason: 'added by the admin, but /etc/d is not a directory in the new base',
        resolution: 'took-new-saved-admin',
        savedAs: '/etc/d.imgsave/e',
      },
      expect.objectContaining({ path: '/etc/d/e/f', savedAs: '/etc/d.imgsave/e/f' }),
      expect.objectContaining({ path: '/etc/d/new', savedAs: '/etc/d.imgsave/new' }),
    ]);
    expect(plan.unplaced).toEqual(new Map([['/etc/d', ['/etc/d', '/etc/d/e', '/etc/d/e/f', '/etc/d/new']]]));
    const failed = await planCarryOver({ base, layer, next }, probe(), () => 'fail', new Set());
    expect(failed.conflicts.map((c) => [c.resolution, c.savedAs])).toEqual([
      ['failed', undefined],
      ['failed', undefined],
      ['failed', undefined],
    ]);
  });

  it('replaces a directory the admin swapped for a link: children removed first, then the directory', async () => {
    const layer = snapshot(base, { '/etc/d': entry('l', { link: '/outside' }), '/etc/d/x': undefined });
    const plan = await planCarryOver({ base, layer, next: base }, probe(), () => 'fail', new Set());
    expect(plan.remove).toEqual(['/etc/d/x', '/etc/d']);
    expect(plan.extract).toEqual(['/etc/d']);
    expect(plan.conflicts).toEqual([]);
  });

  it('carries every name of a hard-linked file, and leaves skipped paths to the account merge', async () => {
    const shared = entry('f', { nlink: 2 });
    const layer = snapshot(base, { '/etc/h1': shared, '/etc/h2': shared, '/etc/passwd': entry('f') });
    const plan = await planCarryOver({ base, layer, next: base }, probe(), () => 'fail', new Set(['/etc/passwd']));
    expect(plan.extract).toEqual(['/etc/h1', '/etc/h2']);
    expect(plan.pack).toEqual(['/etc/h1', '/etc/h2']);
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandRunner, CommandSpec } from '@imgbased/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Probe, planCarryOver } from './plan.js';
import { type Entry, RecordTree, sameQuick, walkTree } from './tree.js';

let dir: string;
beforeAll(async () => {
  // walkTree only lists roots that exist: two empty directories stand for them.
  dir = await mkdtemp(join(tmpdir(), 'tar-diff-tree-'));
  await mkdir(join(dir, 'etc'));
  await mkdir(join(dir, 'srv'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Fields joined by NUL, as find prints them. */
const nul = (...fields: string[]) => fields.join('\0');

/** A runner that answers `find` with the given records (NUL-joined fields, as find prints them) and remembers the argv. */
function fakeFind(records: string[]): { runner: CommandRunner; calls: CommandSpec[] } {
  const calls: CommandSpec[] = [];
  return {
    calls,
    runner: {
      run: async (spec) => {
        calls.push(spec);
        // find writes the listing into the file named after -fprintf.
        await writeFile(spec.argv[spec.argv.indexOf('-fprintf') + 1]!, records.join(''));
        return { argv: spec.argv, exitCode: 0, stdout: '', stderr: '', durationMs: 0, planned: false };
      },
    },
  };
}

describe('walkTree', () => {
  it('lists every root with one find and keeps the raw records, parsed on demand', async () => {
    const { runner, calls } = fakeFind([
      nul('d 755 0 0 4096 1.5', '', '2 3 1.5', `${dir}/etc`, ''),
      nul('f 644 0 0 12 2.25', '', '10 1 2.5', `${dir}/etc/hosts`, ''),
      nul('l 777 0 0 9 3.0', '/outside', '11 1 3.0', `${dir}/etc/link`, ''),
      nul('f 600 0 0 1 4.0', '', '12 2 4.0', `${dir}/etc/ssh/key`, ''),
      nul('d 755 0 0 4096 1.5', '', '13 2 1.5', `${dir}/srv`, ''),
    ]);
    const tree = await walkTree(runner, `${dir}/`, ['/etc', '/srv', '/missing'], (p) => p.startsWith('/etc/ssh'));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.argv.slice(0, 3)).toEqual(['find', join(dir, 'etc'), join(dir, 'srv')]);
    expect([...tree.keys()]).toEqual(['/etc', '/etc/hosts', '/etc/link', '/srv']);
    expect(tree.get('/etc/hosts')).toEqual({
      type: 'f',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 12,
      ino: 10,
      nlink: 1,
      mtime: '2.25',
      ctime: '2.5',
      link: '',
    } satisfies Entry);
    expect(tree.get('/etc/link')?.link).toBe('/outside');
  });

  it('keeps records by byte offset: names and link targets beyond ASCII come back whole', async () => {
    const { runner } = fakeFind([
      nul('l 777 0 0 3 1.0', '/ü', '20 1 1.0', `${dir}/etc/häll`, ''),
      nul('f 644 0 0 5 2.0', '', '21 1 2.0', `${dir}/etc/日本`, ''),
    ]);
    const tree = await walkTree(runner, dir, ['/etc'], () => false);
    expect([...tree.keys()]).toEqual(['/etc/häll', '/etc/日本']);
    expect(tree.get('/etc/häll')).toMatchObject({ type: 'l', link: '/ü', ino: 20 });
    expect(tree.get('/etc/日本')).toMatchObject({ type: 'f', size: 5, ino: 21, ctime: '2.0' });
    const same = RecordTree.of(new Map([['/etc/häll', nul('l 777 0 0 3 1.0', '/ü', '99 1 9.0')]]));
    expect(sameQuick(tree, same, '/etc/häll')).toBe(true);
    expect(sameQuick(tree, same, '/etc/日本')).toBe(false);
  });

  it('compares quick records across a tree listed without the snapshot fields', async () => {
    const withSnapshot = RecordTree.of(
      new Map([
        ['/a', nul('f 644 0 0 12 2.25', '', '10 1 2.5')],
        ['/b', nul('f 644 0 0 12 2.25', '', '11 1 2.5')],
      ]),
    );
    const without = RecordTree.of(
      new Map([
        ['/a', nul('f 644 0 0 12 2.25', '')],
        ['/b', nul('f 644 0 0 13 2.25', '')],
      ]),
    );
    expect(sameQuick(withSnapshot, without, '/a')).toBe(true);
    expect(sameQuick(without, withSnapshot, '/a')).toBe(true);
    expect(sameQuick(withSnapshot, without, '/b')).toBe(false);
    expect(sameQuick(withSnapshot, without, '/c')).toBe(false);
    expect(without.get('/a')).toMatchObject({ ino: 0, nlink: 1, size: 12 });
  });
});

describe('RecordTree.differing', () => {
  const rec = (size: number, ino: number) => nul(`f 644 0 0 ${size} 1.0`, '', `${ino} 1 1.0`);
  // Reference: the same question asked path by path of two Maps.
  const reference = (a: Map<string, string>, b: Map<string, string>) =>
    [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();

  it('finds what differs between listings in any order, as a path-by-path comparison does', () => {
    const a = new Map<string, string>();
    const b = new Map<string, string>();
    for (let i = 0; i < 3000; i++) {
      a.set(`/srv/d${i % 37}/f${i}`, rec(i, i));
      if (i % 101 !== 0) b.set(`/srv/d${i % 37}/f${i}`, rec(i % 53 === 0 ? i + 1 : i, i));
      if (i % 211 === 0) b.set(`/srv/d${i % 37}/new${i}`, rec(1, i));
    }
    // The second listing in another order (a different file system lists directories in another order).
    const shuffled = new Map([...b].reverse());
    const got = RecordTree.of(a).differing(RecordTree.of(shuffled), false).sort();
    expect(got).toEqual(reference(a, b));
    expect(got.length).toBeGreaterThan(80);
    expect(RecordTree.of(a).differing(RecordTree.of(a), false)).toEqual([]);
  });

  it('never finds nor lists excluded paths', async () => {
    const { runner } = fakeFind([
      nul('f 644 0 0 1 1.0', '', '1 1 1.0', `${dir}/etc/keep`, ''),
      nul('f 600 0 0 1 1.0', '', '2 1 1.0', `${dir}/etc/ssh/host_key`, ''),
    ]);
    const tree = await walkTree(runner, dir, ['/etc'], (p) => p.startsWith('/etc/ssh/'));
    expect([...tree.keys()]).toEqual(['/etc/keep']);
    expect(tree.size).toBe(1);
    expect(tree.has('/etc/ssh/host_key')).toBe(false);
    expect(tree.differing(RecordTree.of(new Map()), false)).toEqual(['/etc/keep']);
  });
});

describe('planCarryOver on raw records', () => {
  const probe: Probe = {
    sameContent: async () => false,
    xattrs: async (_t, paths) => new Map(paths.map((p) => [p, ''])),
  };
  it('takes an equal record as untouched and parses only the rest, as on parsed entries', async () => {
    const rec = (size: number, ino: number, ctime: string) => nul(`f 644 0 0 ${size} 1.0`, '', `${ino} 1 ${ctime}`);
    const dirRec = nul('d 755 0 0 4096 1.0', '', '1 5 1.0');
    const base = new Map([
      ['/etc', dirRec],
      ['/etc/same', rec(1, 2, '1.0')],
      ['/etc/edited', rec(1, 3, '1.0')],
      ['/etc/gone', rec(1, 4, '1.0')],
    ]);
    const layer = new Map([
      ['/etc', nul('d 755 0 0 4096 2.0', '', '1 5 2.0')],
      ['/etc/same', rec(1, 2, '1.0')],
      ['/etc/edited', rec(2, 3, '2.0')],
      ['/etc/added', rec(1, 9, '2.0')],
    ]);
    const next = new Map([
      ['/etc', nul('d 755 0 0 4096 5.0', '')],
      ['/etc/same', nul('f 644 0 0 7 5.0', '')],
      ['/etc/edited', nul('f 644 0 0 1 1.0', '')],
      ['/etc/gone', nul('f 644 0 0 1 1.0', '')],
    ]);
    const plan = await planCarryOver(
      { base: RecordTree.of(base), layer: RecordTree.of(layer), next: RecordTree.of(next) },
      probe,
      () => 'fail',
      new Set(),
    );
    expect([...plan.changes]).toEqual([
      ['/etc/added', 'added'],
      ['/etc/edited', 'modified'],
      ['/etc/gone', 'deleted'],
    ]);
    expect(plan.copied).toEqual(['/etc/added', '/etc/edited']);
    expect(plan.deleted).toEqual(['/etc/gone']);
    expect(plan.keptFromNewBase).toEqual(['/etc/same']);
    expect(plan.conflicts).toEqual([]);
  });
});

import { open } from 'node:fs/promises';
import { decodePath } from '@imgbased/system';
import { type DirEntry, Ext4Reader, geometryOf, S_IFDIR, S_IFMT } from './ext4-reader.js';

/** A name found: its inode and type (find's %y letter). */
export interface Name {
  readonly ino: number;
  readonly type: string;
}

const ROOT = 2;
const TYPE_OF_MODE: Record<number, string> = {
  32768: 'f',
  16384: 'd',
  40960: 'l',
  8192: 'c',
  24576: 'b',
  4096: 'p',
  49152: 's',
};

/**
 * Every name (path inside the file system) of each inode of `inodes` that is in use on `device`, read
 * from ext4's own structures without walking the tree: a directory's name is in its parent (`..`);
 * ext4 has no parent pointers for files, but it places a file's inode in its directory's block group,
 * so the directories of the groups that hold the inodes are read first, then the other groups only
 * while names are missing. An inode has as many names
 * as its link count (a directory one): when they are all found the search stops; a name never found is
 * a reason (then the whole trees are compared), never a guess.
 */
export async function namesOfInodes(device: string, inodes: Iterable<number>): Promise<Map<string, Name> | string> {
  const file = await open(device, 'r');
  try {
    const geometry = await geometryOf(file);
    if (typeof geometry === 'string') return `${device}: ${geometry}`;
    const reader = new Ext4Reader(file, geometry);
    const ipg = geometry.inodesPerGroup;

    // What is to be found: each inode in use, with how many names it has.
    const wanted = new Map<number, { left: number; type: string }>();
    const found = new Map<string, Name>();
    const first = [...new Set([...inodes].map((ino) => Math.floor((ino - 1) / ipg)))]
      .filter((g) => g >= 0 && g < geometry.groups.length)
      .sort((a, b) => a - b);
    // The inodes' own groups' tables, each read once: their inodes and their directories come from them.
    for (const group of first) void reader.table(group, true).catch(() => undefined);
    for (const ino of inodes) {
      // ext4's own inodes (the journal, …) have no names.
      if (ino !== ROOT && ino < geometry.firstIno) continue;
      if (ino < ROOT || ino > ipg * geometry.groups.length || !(await reader.inUse(ino))) continue;
      const inode = await reader.inode(ino);
      const mode = inode.readUInt16LE(0);
      const links = inode.readUInt16LE(0x1a);
      if (mode === 0 || links === 0) continue;
      const type = TYPE_OF_MODE[mode & S_IFMT] ?? '?';
      if (ino === ROOT) found.set('/', { ino, type });
      else wanted.set(ino, { left: (mode & S_IFMT) === S_IFDIR ? 1 : links, type });
    }

    const dirs = new Map<number, DirEntry[]>();
    const entriesOf = async (ino: number): Promise<DirEntry[]> => {
      let e = dirs.get(ino);
      if (e === undefined) {
        const read = await reader.entries(ino);
        if (typeof read === 'string') throw new Ext4Unreadable(read);
        dirs.set(ino, read);
        e = read;
      }
      return e;
    };
    // Where each wanted inode's names are: (directory, name) pairs.
    const places = new Map<number, { dir: number; name: Buffer }[]>();
    // A directory names its parent (`..`): its one name is found there, whichever group that is in
    // (ext4 spreads directories over the groups; their files it keeps near them).
    for (const [ino, w] of wanted) {
      if (w.type !== 'd') continue;
      const parent = (await entriesOf(ino)).find((e) => e.name.length === 2 && e.name.toString() === '..');
      const own = parent && (await entriesOf(parent.ino)).find((e) => e.ino === ino && !isDot(e.name));
      if (parent === undefined || own === undefined) continue; // left to the search below
      places.set(ino, [{ dir: parent.ino, name: own.name }]);
      w.left = 0;
    }
    let missing = [...wanted.values()].reduce((n, w) => n + w.left, 0);
    const scanGroup = async (group: number) => {
      const g = geometry.groups[group]!;
      if (g.uninit) return;
      const table = await reader.table(group, first.includes(group));
      for (let slot = 0; slot < ipg && missing > 0; slot++) {
        const at = slot * geometry.inodeSize;
        const dir = group * ipg + slot + 1;
        if ((table.readUInt16LE(at) & S_IFMT) !== S_IFDIR || table.readUInt16LE(at + 0x1a) === 0) continue;
        if (!(await reader.inUse(dir))) continue;
        const failed = await reader.scan(dir, (entryIno, data, at, nameLen) => {
          const w = wanted.get(entryIno);
          if (w === undefined || w.left === 0 || isDotAt(data, at, nameLen)) return;
          w.left--;
          missing--;
          const name = Buffer.from(data.subarray(at, at + nameLen));
          places.set(entryIno, [...(places.get(entryIno) ?? []), { dir, name }]);
        });
        if (failed !== undefined) throw new Ext4Unreadable(failed);
      }
    };
    // The groups of the files still unnamed first (their directories are most likely there).
    const near = [...new Set([...wanted].filter(([, w]) => w.left > 0).map(([ino]) => Math.floor((ino - 1) / ipg)))];
    for (const group of near.sort((a, b) => a - b)) if (missing > 0) await scanGroup(group);
    for (let group = 0; group < geometry.groups.length && missing > 0; group++)
      if (!near.includes(group)) await scanGroup(group);
    if (missing > 0) return `${device}: ${missing} names of changed inodes were not found in any directory`;

    // Directories' paths, up through their `..` entries (each directory has one name).
    const paths = new Map<number, string>([[ROOT, '']]);
    const pathOf = async (dir: number, depth = 0): Promise<string> => {
      const known = paths.get(dir);
      if (known !== undefined) return known;
      if (depth > 4096) throw new Ext4Unreadable('a directory loop');
      const parent = (await entriesOf(dir)).find((e) => e.name.length === 2 && e.name.toString() === '..');
      if (parent === undefined) throw new Ext4Unreadable(`directory ${dir} has no '..'`);
      const own = (await entriesOf(parent.ino)).find((e) => e.ino === dir && !isDot(e.name));
      if (own === undefined) throw new Ext4Unreadable(`directory ${dir} is not in its parent ${parent.ino}`);
      const path = `${await pathOf(parent.ino, depth + 1)}/${decodePath(own.name)}`;
      paths.set(dir, path);
      return path;
    };
    for (const [ino, at] of places)
      for (const { dir, name } of at)
        found.set(`${await pathOf(dir)}/${decodePath(name)}`, { ino, type: wanted.get(ino)!.type });
    return found;
  } catch (error) {
    if (error instanceof Ext4Unreadable) return `${device}: ${error.message}`;
    throw error;
  } finally {
    await file.close();
  }
}

class Ext4Unreadable extends Error {}

const isDotAt = (data: Buffer, at: number, length: number) =>
  data[at] === 0x2e && (length === 1 || (length === 2 && data[at + 1] === 0x2e));
const isDot = (name: Buffer) =>
  (name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e);

// Runs inside the test VM (bundled from the sources by tests/thin-delta.e2e.test.ts): tar-diff's
// thin_delta path against its whole-tree comparison, on real LVM thin. An ext4 base, a "new base" (a
// snapshot of it, changed a little), then rounds: a fresh snapshot of the base as the old layer, a
// random change set of every kind on it (mounted read-write, as the running layer is), and two dry
// runs of the carry-over: one given the volumes (thin_delta), one not (the whole trees, the oracle).
// Prints one line: @@RESULT@@ {rounds: [{ops, full, delta, walk}]}.
// Usage: node delta-guest.mjs DISK ROUNDS
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, link, mkdir, readdir, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineEvent, PersistencePolicy, PersistenceReport } from '@imgbased/core';
import { TarDiffPersistence } from '@imgbased/persistence-tar-diff';
import { ExecaCommandRunner } from '@imgbased/system';

const [disk = '/dev/vda', roundsArg = '4'] = process.argv.slice(2);
const VG = 'dvg';
const sh = (...argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
const lvm = (...args: string[]) => sh('lvm', ...args);

let seed = 1;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const pick = <T>(xs: readonly T[]) => xs[rand(xs.length)]!;

/** The files of the base that carry the xattr user.tag. */
const tagged = (i: number) => `etc/d${(2 * i) % 40}/f${2 * i}`;

/** The base's tree: /etc and /srv with files, a few hard links, symlinks and xattrs. */
async function populate(root: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const dir = join(root, i % 2 ? 'srv/data' : 'etc', `d${i % 40}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `f${i}`), `file ${i}\n`.repeat(1 + (i % 7)));
  }
  for (let i = 0; i < 20; i++) await link(join(root, `etc/d${(2 * i) % 40}/f${2 * i}`), join(root, `etc/hl${i}`));
  for (let i = 0; i < 20; i++) await symlink(`d${i}/f${2 * i}`, join(root, `etc/sl${i}`));
  for (let i = 0; i < 20; i++) sh('setfattr', '-n', 'user.tag', '-v', `v${i}`, join(root, tagged(i)));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
}

/** All files (not directories) under `dir`, as paths relative to `root`. */
async function files(root: string, dir = ''): Promise<{ files: string[]; dirs: string[] }> {
  const out = { files: [] as string[], dirs: [] as string[] };
  for (const e of await readdir(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p === 'lost+found') continue;
      out.dirs.push(p);
      const sub = await files(root, p);
      out.files.push(...sub.files);
      out.dirs.push(...sub.dirs);
    } else out.files.push(p);
  }
  return out;
}

const KINDS = [
  'content',
  'chmod',
  'chown',
  'mtime',
  'xattr',
  'xattr-remove',
  'rename',
  'rename-dir',
  'hardlink',
  'unlink-hardlink',
  'delete',
  'delete-dir',
  'new-dir',
  'same-content',
  'symlink-retarget',
  'new-file',
] as const;

/** A random change set of `count` operations on the tree at `root`; returns how many of each kind. */
async function change(root: string, count: number): Promise<Record<string, number>> {
  const done: Record<string, number> = {};
  for (let k = 0; k < count; k++) {
    const { files: all, dirs } = await files(root);
    const regular = all.filter((f) => !/\/?sl\d+$/.test(f) && f !== 'etc/passwd');
    const kind = KINDS[k % KINDS.length]!;
    const f = join(root, pick(regular));
    const d = join(root, pick(dirs.filter((x) => x !== 'etc' && x !== 'srv' && x !== 'srv/data')));
    try {
      if (kind === 'content') await writeFile(f, `changed ${k}\n`);
      else if (kind === 'chmod') await chmod(f, 0o600 + rand(0o100));
      else if (kind === 'chown') await chown(f, 1000 + rand(5), 1000);
      else if (kind === 'mtime') await utimes(f, new Date(), new Date(2001, 1, 1));
      else if (kind === 'xattr') sh('setfattr', '-n', 'user.admin', '-v', `x${k}`, f);
      else if (kind === 'xattr-remove') {
        // Gone already (removed, or its file replaced): nothing done, nothing counted.
        const target = join(root, tagged(k % 20));
        if (!existsSync(target)) continue;
        if (execFileSync('getfattr', ['--absolute-names', '-d', target], { encoding: 'utf8' }).includes('user.tag'))
          sh('setfattr', '-x', 'user.tag', target);
        else continue;
      } else if (kind === 'rename') await rename(f, `${f}-moved${k}`);
      else if (kind === 'rename-dir') await rename(d, `${d}-moved${k}`);
      else if (kind === 'hardlink') await link(f, join(root, `etc/newlink${k}`));
      else if (kind === 'unlink-hardlink') await rm(join(root, `etc/hl${k % 20}`));
      else if (kind === 'delete') await rm(f);
      else if (kind === 'delete-dir') await rm(d, { recursive: true });
      else if (kind === 'new-dir') {
        await mkdir(join(root, `srv/new${k}/sub`), { recursive: true });
        await writeFile(join(root, `srv/new${k}/sub/file`), `new ${k}\n`);
      } else if (kind === 'same-content') {
        // Rewritten with what it holds: a new mtime, the same bytes.
        const text = execFileSync('cat', [f]);
        await writeFile(f, text);
      } else if (kind === 'symlink-retarget') {
        const s = join(root, `etc/sl${k % 20}`);
        await rm(s, { force: true });
        await symlink(`retargeted-${k}`, s);
      } else await writeFile(join(root, `etc/d${k % 40}/added${k}`), `added ${k}\n`);
      done[kind] = (done[kind] ?? 0) + 1;
    } catch (error) {
      // A target an earlier operation removed (ENOENT): that operation counts, this one not.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return done;
}

const policy: PersistencePolicy = { paths: ['/etc', '/srv'], excludes: [], onConflict: 'keep-admin' };
const summary = (r: PersistenceReport) => ({
  copied: [...r.copied],
  deleted: [...r.deleted],
  merged: [...r.merged],
  conflicts: r.conflicts.map((c) => `${c.path} ${c.resolution}`),
  keptFromNewBase: [...r.keptFromNewBase],
});

async function main(): Promise<void> {
  sh('pvcreate', '-q', disk);
  lvm('vgcreate', '-q', VG, disk);
  lvm('lvcreate', '-q', '--type', 'thin-pool', '-L', '900M', '-n', 'pool', VG);
  lvm('lvcreate', '-q', '-V', '400M', '--thin', '-n', 'base', `${VG}/pool`);
  sh('mkfs.ext4', '-q', `/dev/${VG}/base`);
  const mnt = (name: string) => `/mnt/${name}`;
  for (const m of ['base', 'next', 'layer']) await mkdir(mnt(m), { recursive: true });
  sh('mount', `/dev/${VG}/base`, mnt('base'));
  await populate(mnt('base'));
  sh('umount', mnt('base'));
  // The new base: its own changes (some on the same files as the admin's may be: conflicts).
  lvm('lvcreate', '-q', '-s', '-n', 'next', `${VG}/base`);
  lvm('lvchange', '-q', '-ay', '-K', `${VG}/next`);
  sh('mount', `/dev/${VG}/next`, mnt('next'));
  seed = 99;
  await change(mnt('next'), 24);
  sh('mount', '-o', 'ro', `/dev/${VG}/base`, mnt('base'));

  const runner = new ExecaCommandRunner();
  const plugin = new TarDiffPersistence(runner);
  const rounds = [];
  for (let r = 1; r <= Number(roundsArg); r++) {
    const name = `layer${r}`;
    lvm('lvcreate', '-q', '-s', '-n', name, `${VG}/base`);
    lvm('lvchange', '-q', '-ay', '-K', `${VG}/${name}`);
    sh('mount', `/dev/${VG}/${name}`, mnt('layer'));
    seed = r * 7919;
    const ops = await change(mnt('layer'), 48 + 16 * r);
    const trees = { oldBase: mnt('base'), oldLayer: mnt('layer'), newLayer: mnt('next') };
    const walk: string[] = [];
    const context = {
      report: (e: EngineEvent) => {
        if (e.type === 'step' && e.step === 'persistence.walk') walk.push(e.message);
      },
    };
    const full = await plugin.carryOver(trees, policy, { dryRun: true });
    const delta = await plugin.carryOver(
      { ...trees, volumes: { vg: VG, oldBase: 'base', oldLayer: name } },
      policy,
      { dryRun: true },
      context,
    );
    rounds.push({ ops, full: summary(full), delta: summary(delta), walk });
    sh('umount', mnt('layer'));
    lvm('lvremove', '-q', '-y', `${VG}/${name}`);
  }
  // Volumes of two pools: no delta to ask for, the whole trees compared.
  lvm('lvcreate', '-q', '--type', 'thin-pool', '-L', '64M', '-n', 'pool2', VG);
  lvm('lvcreate', '-q', '-V', '64M', '--thin', '-n', 'elsewhere', `${VG}/pool2`);
  const fallback: string[] = [];
  await plugin.carryOver(
    {
      oldBase: mnt('base'),
      oldLayer: mnt('base'),
      newLayer: mnt('next'),
      volumes: { vg: VG, oldBase: 'base', oldLayer: 'elsewhere' },
    },
    policy,
    { dryRun: true },
    {
      report: (e: EngineEvent) => void (e.type === 'step' && e.step === 'persistence.walk' && fallback.push(e.message)),
    },
  );
  process.stdout.write(`@@RESULT@@${JSON.stringify({ rounds, fallback })}\n`);
}

await main();

// Persistence benchmark: time and bytes written by each persistence plugin against a plain
// `rsync -aHAX` of the same paths, measured in the same run on the same trees, reported as ratios.
//   pnpm build && node test-e2e/bin/run-ts.mjs bench/persistence.ts [--rounds N] [--files N]
// Needs root (loop devices). The plugins are loaded from their built dist (Node 20 cannot run their
// TypeScript sources, and the bundle of this script leaves packages external).
//
// Trees: an ext4 old base with 2,000 files in /etc, 50,000 small files and 3 large files in /srv; the
// old layer and the new base are block-level copies of it (as thin snapshots are), then changed: the
// admin changes 2% of the files (modified, added, deleted, chmod-only, one large file rewritten in
// part), the new base changes 1% (some on the same files: conflicts, policy keep-admin). Each subject
// runs on a fresh copy of the new base, in a child process (timed inside it, around the carry-over only).
//
// Bytes written, two ways: `write_bytes` of the child's /proc/self/io (read at its end, which includes
// its reaped children: rsync, tar, cp) counts what the process made the kernel write to storage; the
// ext4 `lifetime_write_kbytes` of the new layer's file system (/sys/fs/ext4/loopN/, read after
// `sync -f`) counts what reached its device, with metadata and journal. "Changed bytes" is the size of
// the files the admin added or modified: what any file-level tool must write at least.
//
// CPU time (user + system of the child and every command it ran) is reported beside wall time, and the
// load average before and after the runs: on a shared machine, load moves wall time far more than CPU.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { repoRoot } from '../test-e2e/src/index.ts';

const SUBJECTS = ['rsync -aHAX (baseline)', 'persistence-rsync', 'persistence-tar-diff'] as const;
type Subject = (typeof SUBJECTS)[number];
const POLICY = { paths: ['/etc', '/srv'], excludes: [], onConflict: 'keep-admin' as const };

interface ChildResult {
  ms: number;
  /** CPU time (user + system) of the child and the commands it ran: what load on a shared machine does not change. */
  cpuMs: number;
  writeBytes: number;
  report?: {
    copied: number;
    merged: number;
    deleted: number;
    keptFromNewBase: number;
    conflicts: number;
    delta?: string;
  };
}

// ---- child: one carry-over, timed, with its own I/O counters ----
async function child(subject: Subject, oldBase: string, oldLayer: string, newLayer: string): Promise<void> {
  await import('reflect-metadata');
  const load = (rel: string) => import(pathToFileURL(path.join(repoRoot, rel)).href);
  const { ExecaCommandRunner } = await load('packages/system/dist/index.js');
  const runner = new ExecaCommandRunner();
  // The plugin's code is loaded before the clock starts: the carry-over alone is timed.
  const module =
    subject === 'persistence-rsync'
      ? await load('plugins/persistence-rsync/dist/index.js')
      : subject === 'persistence-tar-diff'
        ? await load('plugins/persistence-tar-diff/dist/index.js')
        : undefined;
  const cpuBefore = await cpuTicks();
  const started = performance.now();
  let report: ChildResult['report'];
  if (module === undefined) {
    await execa('rsync', ['-aHAX', '--relative', `${oldLayer}/./etc`, `${oldLayer}/./srv`, `${newLayer}/`]);
  } else {
    const Plugin = subject === 'persistence-rsync' ? module.RsyncPersistence : module.TarDiffPersistence;
    // IMGBASED_BENCH_STEPS=1 prints each step and command with its time since the start (stderr).
    const context = process.env.IMGBASED_BENCH_STEPS
      ? {
          report: (e: { type: string; step?: string; argv?: readonly string[]; durationMs?: number }) => {
            if (e.type === 'step' || e.type === 'command-done') {
              const what = e.step ?? `${e.argv!.slice(0, 2).join(' ')} (${e.durationMs} ms)`;
              process.stderr.write(`  +${(performance.now() - started).toFixed(0)} ms ${what}\n`);
            }
          },
        }
      : undefined;
    const r = await new Plugin(runner).carryOver({ oldBase, oldLayer, newLayer }, POLICY, { dryRun: false }, context);
    report = {
      copied: r.copied.length,
      merged: r.merged.length,
      deleted: r.deleted.length,
      keptFromNewBase: r.keptFromNewBase.length,
      conflicts: r.conflicts.length,
      ...(r.delta ? { delta: r.delta } : {}),
    };
  }
  const ms = performance.now() - started;
  const io = await readFile('/proc/self/io', 'utf8');
  const writeBytes = Number(/^write_bytes: (\d+)/m.exec(io)![1]);
  const cpuMs = (await cpuTicks()) - cpuBefore;
  process.stdout.write(`${JSON.stringify({ ms, cpuMs, writeBytes, report } satisfies ChildResult)}\n`);
}

/** utime + stime + cutime + cstime of this process (its reaped commands included), in ms (clock ticks of 10 ms). */
async function cpuTicks(): Promise<number> {
  const fields = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 10;
}

// ---- parent: trees, runs, ratios ----
const sh = (argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
const mounts: { dir: string; loop: string }[] = [];

function mount(image: string, dir: string, readOnly = false): string {
  const loop = sh(['losetup', '--find', '--show', image]).trim();
  sh(['mount', '-t', 'ext4', ...(readOnly ? ['-o', 'ro'] : []), loop, dir]);
  mounts.push({ dir, loop });
  return loop;
}
function umount(dir: string): void {
  const i = mounts.findIndex((m) => m.dir === dir);
  sh(['umount', dir]);
  sh(['losetup', '-d', mounts[i]!.loop]);
  mounts.splice(i, 1);
}

let seed = 42;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const noise = randomBytes(1 << 20);
/** `size` bytes of random data, from a different offset each time. */
const content = (size: number) => {
  const start = rand(noise.length - size);
  return noise.subarray(start, start + size);
};

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>, width = 32): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

interface Layout {
  etc: string[];
  small: string[];
  big: string[];
}

async function buildBase(root: string, smallFiles: number): Promise<Layout> {
  const etc = Array.from({ length: 2000 }, (_, i) => `etc/app${i % 20}/file${i}.conf`);
  const small = Array.from({ length: smallFiles }, (_, i) => `srv/data/d${i % 100}/f${i}`);
  const big = ['srv/big/a.bin', 'srv/big/b.bin', 'srv/big/c.bin'];
  for (const d of new Set([...etc, ...small, ...big].map((p) => path.dirname(p))))
    await mkdir(path.join(root, d), { recursive: true });
  await inParallel(etc, (p) => writeFile(path.join(root, p), content(200 + rand(3800))));
  await inParallel(small, (p) => writeFile(path.join(root, p), content(100 + rand(4000))));
  for (const p of big) {
    const handle = await open(path.join(root, p), 'w');
    for (let i = 0; i < 64; i++) await handle.write(noise);
    await handle.close();
  }
  await writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  await writeFile(path.join(root, 'etc/group'), 'root:x:0:\n');
  return { etc, small, big };
}

/** Changes `share` of the files; returns the bytes of the files added or modified. */
async function change(root: string, layout: Layout, share: number, tag: string, withBig: boolean): Promise<number> {
  let bytes = 0;
  const pick = (list: string[]) => list.filter(() => rand(10_000) < share * 10_000);
  const modified = [...pick(layout.etc), ...pick(layout.small)];
  const chmods = modified.splice(0, Math.ceil(modified.length * 0.05));
  const deleted = modified.splice(0, Math.ceil(modified.length * 0.05));
  await inParallel(modified, async (p) => {
    const data = content(150 + rand(4000));
    bytes += data.length;
    await writeFile(path.join(root, p), data);
  });
  for (const p of chmods) await chmod(path.join(root, p), 0o600);
  for (const p of deleted) await rm(path.join(root, p));
  for (let i = 0; i < 20; i++) {
    const data = content(500 + rand(3000));
    bytes += data.length;
    await writeFile(path.join(root, `etc/app${i}/${tag}-added-${i}.conf`), data);
  }
  if (withBig) {
    const handle = await open(path.join(root, layout.big[0]!), 'r+');
    await handle.write(randomBytes(1 << 20), 0, 1 << 20, 16 << 20);
    await handle.close();
    bytes += (await stat(path.join(root, layout.big[0]!))).size;
  }
  if (tag === 'admin')
    await writeFile(
      path.join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n',
    );
  else
    await writeFile(
      path.join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/bash\nchrony:x:990:990::/:/sbin/nologin\n',
    );
  return bytes;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function parent(rounds: number, smallFiles: number): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'imgbased-bench-persist-'));
  const dirs = Object.fromEntries(['base', 'layer', 'newbase', 'new'].map((d) => [d, path.join(work, d)]));
  for (const d of Object.values(dirs)) await mkdir(d);
  try {
    const baseImage = path.join(work, 'base.img');
    await writeFile(baseImage, '');
    await truncate(baseImage, 2 * 1024 ** 3);
    sh(['mkfs.ext4', '-q', '-F', baseImage]);
    mount(baseImage, dirs.base!);
    console.error('generating the old base…');
    const layout = await buildBase(dirs.base!, smallFiles);
    umount(dirs.base!);
    for (const name of ['layer', 'newbase']) sh(['cp', '--sparse=always', baseImage, path.join(work, `${name}.img`)]);
    mount(path.join(work, 'layer.img'), dirs.layer!);
    const changedBytes = await change(dirs.layer!, layout, 0.02, 'admin', true);
    seed = 7;
    mount(path.join(work, 'newbase.img'), dirs.newbase!);
    await change(dirs.newbase!, layout, 0.01, 'new', false);
    umount(dirs.newbase!);
    umount(dirs.layer!);
    mount(path.join(work, 'layer.img'), dirs.layer!, true);
    mount(baseImage, dirs.base!, true);

    // The machine may be shared: the load average before and after the runs goes with the results.
    const loadBefore = loadavg();
    const runs = new Map<
      Subject,
      { ms: number; cpuMs: number; writeBytes: number; fsBytes: number; report?: ChildResult['report'] }[]
    >();
    for (let round = 0; round < rounds; round++) {
      for (const subject of SUBJECTS) {
        const image = path.join(work, 'new.img');
        sh(['cp', '--sparse=always', path.join(work, 'newbase.img'), image]);
        const loop = mount(image, dirs.new!);
        const counter = `/sys/fs/ext4/${path.basename(loop)}/lifetime_write_kbytes`;
        sh(['sync', '-f', dirs.new!]);
        const fsBefore = Number(await readFile(counter, 'utf8'));
        const out = await execa(process.execPath, [
          path.join(repoRoot, 'test-e2e/bin/run-ts.mjs'),
          path.join(repoRoot, 'bench/persistence.ts'),
          '--child',
          subject,
          dirs.base!,
          dirs.layer!,
          dirs.new!,
        ]);
        sh(['sync', '-f', dirs.new!]);
        const fsBytes = (Number(await readFile(counter, 'utf8')) - fsBefore) * 1024;
        const result = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as ChildResult;
        runs.set(subject, [...(runs.get(subject) ?? []), { ...result, fsBytes }]);
        if (process.env.IMGBASED_BENCH_STEPS) console.error(out.stderr);
        console.error(
          `round ${round + 1} ${subject}: ${result.ms.toFixed(0)} ms (cpu ${result.cpuMs} ms), ${(result.writeBytes / 1e6).toFixed(1)} MB written`,
        );
        umount(dirs.new!);
        await rm(image);
      }
    }

    const summary = SUBJECTS.map((s) => {
      const r = runs.get(s)!;
      return {
        subject: s,
        ms: median(r.map((x) => x.ms)),
        cpuMs: median(r.map((x) => x.cpuMs)),
        writeBytes: median(r.map((x) => x.writeBytes)),
        fsBytes: median(r.map((x) => x.fsBytes)),
        report: r[0]!.report,
      };
    });
    const baseline = summary[0]!;
    const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
    console.log(
      `persistence: /etc 2000 files, /srv ${smallFiles} small + 3 × 64 MiB files; admin changed 2% (${mb(changedBytes)} changed bytes); ${rounds} rounds, medians`,
    );
    for (const s of summary) {
      console.log(
        `  ${s.subject.padEnd(24)} ${s.ms.toFixed(0).padStart(6)} ms  ${(s.ms / baseline.ms).toFixed(2)}× rsync's time` +
          ` (cpu ${s.cpuMs} ms, ${(s.cpuMs / baseline.cpuMs).toFixed(2)}× rsync's);` +
          ` written ${mb(s.writeBytes)} (${(s.writeBytes / changedBytes).toFixed(2)}× changed, ${(s.writeBytes / baseline.writeBytes).toFixed(2)}× rsync's);` +
          ` ext4 device writes ${mb(s.fsBytes)} (${(s.fsBytes / changedBytes).toFixed(2)}× changed)` +
          (s.report ? `; report: ${JSON.stringify({ ...s.report, delta: undefined })}` : ''),
      );
    }
    const load = {
      before: loadBefore.map((l) => Number(l.toFixed(2))),
      after: loadavg().map((l) => Number(l.toFixed(2))),
    };
    console.log(`  load average (1, 5, 15 min) before ${load.before.join(', ')}, after ${load.after.join(', ')}`);
    const tarDiff = summary[2]!;
    console.log(
      `  targets: tar-diff time ≤ 1.0× rsync: ${(tarDiff.ms / baseline.ms).toFixed(2)}× ${tarDiff.ms <= baseline.ms ? 'met' : 'NOT met'};` +
        ` tar-diff writes ≤ 1.1× changed bytes: ${(tarDiff.writeBytes / changedBytes).toFixed(2)}× ${tarDiff.writeBytes <= 1.1 * changedBytes ? 'met' : 'NOT met'}`,
    );
    const resultsDir = path.join(repoRoot, 'bench/results');
    await mkdir(resultsDir, { recursive: true });
    await writeFile(
      path.join(resultsDir, `persistence-${new Date().toISOString().replaceAll(':', '-')}.json`),
      `${JSON.stringify({ changedBytes, smallFiles, rounds, load, summary, runs: Object.fromEntries(runs) }, null, 2)}\n`,
    );
  } finally {
    for (const m of [...mounts].reverse()) {
      try {
        sh(['umount', '-l', m.dir]);
        sh(['losetup', '-d', m.loop]);
      } catch {}
    }
    await rm(work, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  await child(args[1] as Subject, args[2]!, args[3]!, args[4]!);
} else {
  const option = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  await parent(option('--rounds', 3), option('--files', 50_000));
}

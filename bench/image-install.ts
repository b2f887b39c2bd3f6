// Image install benchmark: @imgbased/image's install of an OS image onto a block device against the plain
// tool doing the same copy, measured in the same run on the same kind of target, reported as ratios.
//   node test-e2e/bin/run-ts.mjs bench/image-install.ts [--rounds N] [--former]   (default 5 rounds)
// --former also times the former ext4 install (e2image -ra, e2fsck -f -y, resize2fs) in each round.
// Needs root (loop devices, mounts). No LVM: each target is a fresh loop device on a sparse file of the
// same file system as the images, which is what the ratios need (both sides write to the same kind of device).
//
// The image: a 1 GiB ext4 file system, about 60 % used (20,000 small files and 24 files of 15 MiB, text-like
// data that compresses about 4:3), and a squashfs (gzip) of the same tree.
// - ext4: install (dumpe2fs for the blocks in use, their copy in 4 MiB chunks; no resize onto a device of the
//   image's size) vs `cp --sparse=always IMAGE DEVICE`. The phases are each tool's time, the rest is the copy.
// - squashfs: install (mkfs.ext4 -E discard, mount, unsquashfs, umount) vs `unsquashfs` into an ext4 already
//   made and mounted on the same kind of device (its mkfs and mount are not timed: the install's are).
// Every run starts with the page cache dropped and ends when its writes reached the device (sync, and an
// fsync of the device: its cache flushed, as the install does itself).
// @imgbased/image and its adapters are bundled from their sources (esbuild), so no build is needed.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../test-e2e/src/index.ts';

const MiB = 1024 ** 2;
const sh = (argv: string[]) =>
  execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const loops: string[] = [];
const mounts: string[] = [];

interface InstallEvent {
  type: string;
  argv?: readonly string[];
  durationMs?: number;
  step?: string;
}
interface Installer {
  inspect(path: string): Promise<{ dataBytes: number; minimumDeviceBytes: number; format: string }>;
  install(image: unknown, device: string, context?: { report: (event: InstallEvent) => void }): Promise<void>;
}

/** Per install kind, per phase (a tool by name, `copy` for the rest, `sync` for the final flush): ms per run. */
const phases: Record<string, Record<string, number[]>> = {};

/** Runs an install, noting how long each tool it ran took; the rest of the time is the copy in Node. */
async function installWithPhases(name: string, installer: Installer, image: unknown, device: string): Promise<void> {
  const tools: Record<string, number> = {};
  const started = performance.now();
  await installer.install(image, device, {
    report(event) {
      if (event.type !== 'command-done' || event.argv === undefined || event.durationMs === undefined) return;
      const tool = path.basename(event.argv[0]!);
      tools[tool] = (tools[tool] ?? 0) + event.durationMs;
    },
  });
  const total = performance.now() - started;
  const toolsMs = Object.values(tools).reduce((a, b) => a + b, 0);
  const syncStarted = performance.now();
  sh(['sync']);
  tools.sync = performance.now() - syncStarted;
  tools['node (not in a tool)'] = Math.max(0, total - toolsMs);
  const mine = phases[name] ?? {};
  phases[name] = mine;
  for (const [tool, ms] of Object.entries(tools)) mine[tool] = [...(mine[tool] ?? []), ms];
}

/** OsImageInstaller with the real runner and ext4 driver, bundled from source. */
async function loadInstaller(work: string): Promise<Installer> {
  const { build } = await import('esbuild');
  const src = (p: string) => path.join(repoRoot, p);
  const outfile = path.join(work, 'image-bundle.mjs');
  await build({
    stdin: {
      contents: [
        "import 'reflect-metadata';",
        `export { OsImageInstaller } from ${JSON.stringify(src('packages/image/src/index.ts'))};`,
        `export { Ext4Driver } from ${JSON.stringify(src('packages/fs-ext4/src/index.ts'))};`,
        `export { ExecaCommandRunner } from ${JSON.stringify(src('packages/system/src/index.ts'))};`,
      ].join('\n'),
      resolveDir: repoRoot,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@imgbased/source'],
    outfile,
    logLevel: 'error',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  const m = await import(pathToFileURL(outfile).href);
  const runner = new m.ExecaCommandRunner();
  return new m.OsImageInstaller(runner, new m.Ext4Driver(runner));
}

function loop(file: string): string {
  const device = sh(['losetup', '--find', '--show', file]).trim();
  loops.push(device);
  return device;
}
function unloop(device: string): void {
  sh(['losetup', '-d', device]);
  loops.splice(loops.indexOf(device), 1);
}
function mount(device: string, dir: string): void {
  sh(['mount', '-t', 'ext4', device, dir]);
  mounts.push(dir);
}
function umount(dir: string): void {
  sh(['umount', dir]);
  mounts.splice(mounts.indexOf(dir), 1);
}

/** A fresh target: a sparse file of `size` on a loop device. */
async function target(work: string, size: number): Promise<{ file: string; device: string }> {
  const file = path.join(work, 'target.dev');
  await rm(file, { force: true });
  await writeFile(file, '');
  await truncate(file, size);
  return { file, device: loop(file) };
}

async function coldStart(): Promise<void> {
  sh(['sync']);
  await writeFile('/proc/sys/vm/drop_caches', '3\n');
}

/** utime + stime of this process and its reaped children (the tools it ran), in ms (ticks of 10 ms). */
async function cpuMs(): Promise<number> {
  const fields = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 10;
}

const cpu: Record<string, number[]> = {};

/**
 * Wall time until the writes reached the device: `sync`, then `sync DEVICE` (fsync: a cache flush, which
 * a loop device passes on as an fsync of its backing file). The flush makes every run durable alike: the
 * install flushes the device itself (fdatasync, e2fsck, umount), a plain `sync` leaves cp's writes in
 * the backing file's page cache. The CPU time goes to `cpu[name]`.
 */
async function timed(name: string, device: string, work: () => Promise<void> | void): Promise<number> {
  await coldStart();
  const cpuBefore = await cpuMs();
  const started = performance.now();
  await work();
  sh(['sync']);
  sh(['sync', device]);
  const ms = performance.now() - started;
  cpu[name] = [...(cpu[name] ?? []), (await cpuMs()) - cpuBefore];
  return ms;
}

/** Text-like data (base64 of random bytes): compresses about 4:3, as OS trees do roughly. */
const pool = Buffer.from(randomBytes(12 * MiB).toString('base64'));
let cursor = 0;
function content(size: number): Buffer {
  if (cursor + size > pool.length) cursor = 0;
  const slice = pool.subarray(cursor, cursor + size);
  cursor += size + 4099;
  return slice;
}

async function buildImage(work: string): Promise<{ ext4: string; squashfs: string; usedPercent: number }> {
  const ext4 = path.join(work, 'image.ext4');
  await writeFile(ext4, '');
  await truncate(ext4, 1024 * MiB);
  sh(['mkfs.ext4', '-q', '-F', ext4]);
  const device = loop(ext4);
  const dir = path.join(work, 'fill');
  await mkdir(dir);
  mount(device, dir);
  await mkdir(path.join(dir, 'etc'));
  await writeFile(path.join(dir, 'etc/os-release'), 'NAME=Bench\nIMAGE_NVR=Bench-1-0\n');
  for (let d = 0; d < 200; d++) {
    const sub = path.join(dir, 'usr/share', `d${d}`);
    await mkdir(sub, { recursive: true });
    for (let f = 0; f < 100; f++) await writeFile(path.join(sub, `f${f}`), content(1024 + ((d * 100 + f) % 16) * 1024));
  }
  await mkdir(path.join(dir, 'usr/lib/big'), { recursive: true });
  for (let i = 0; i < 24; i++) {
    const parts = Array.from({ length: 15 }, () => content(MiB));
    await writeFile(path.join(dir, 'usr/lib/big', `blob${i}`), Buffer.concat(parts));
  }
  const df = sh(['df', '--output=pcent', dir]).split('\n')[1]!.trim();
  const squashfs = path.join(work, 'image.squashfs');
  console.error('making the squashfs…');
  sh(['mksquashfs', dir, squashfs, '-noappend', '-quiet', '-no-progress']);
  umount(dir);
  unloop(device);
  return { ext4, squashfs, usedPercent: Number.parseInt(df, 10) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(rounds: number, withFormer: boolean): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'imgbased-bench-image-'));
  try {
    const installer = await loadInstaller(work);
    console.error('building a 1 GiB ext4 image, 60 % used…');
    const images = await buildImage(work);
    let started = performance.now();
    const ext4Info = await installer.inspect(images.ext4);
    const inspectExt4Ms = performance.now() - started;
    started = performance.now();
    const squashfsInfo = await installer.inspect(images.squashfs);
    const inspectSquashfsMs = performance.now() - started;
    const mnt = path.join(work, 'mnt');
    await mkdir(mnt);

    const times = {
      ext4: [] as number[],
      cp: [] as number[],
      squashfs: [] as number[],
      unsquashfs: [] as number[],
      e2image: [] as number[],
    };
    /** One timed run on a fresh target; `prepare` is not timed. */
    const onFreshTarget = async (
      name: string,
      run: (device: string) => Promise<void> | void,
      prepare?: (device: string) => void,
    ) => {
      const t = await target(work, 1024 * MiB);
      prepare?.(t.device);
      const ms = await timed(name, t.device, () => run(t.device));
      if (mounts.includes(mnt)) umount(mnt);
      unloop(t.device);
      return ms;
    };
    /** The former install (before 2026-12): e2image -ra (4 KiB I/O), then e2fsck -f -y and resize2fs. */
    const formerExt4Install = (device: string) => {
      const mine = phases.e2image ?? {};
      phases.e2image = mine;
      for (const argv of [
        ['e2image', '-ra', images.ext4, device],
        ['e2fsck', '-f', '-y', device],
        ['resize2fs', device],
      ]) {
        const started = performance.now();
        try {
          sh(argv);
        } catch (error) {
          // e2fsck exits 1 when it corrected something: fit for use.
          if (argv[0] !== 'e2fsck' || (error as { status?: number }).status !== 1) throw error;
        }
        mine[argv[0]!] = [...(mine[argv[0]!] ?? []), performance.now() - started];
      }
    };
    const runs = {
      e2image: formerExt4Install,
      ext4: (device: string) => installWithPhases('ext4', installer, ext4Info, device),
      cp: (device: string) => void sh(['cp', '--sparse=always', images.ext4, device]),
      squashfs: (device: string) => installWithPhases('squashfs', installer, squashfsInfo, device),
      unsquashfs: () => void sh(['unsquashfs', '-no-progress', '-force', '-dest', mnt, images.squashfs]),
    };
    const madeAndMounted = (device: string) => {
      sh(['mkfs.ext4', '-q', '-F', '-E', 'discard', device]);
      mount(device, mnt);
    };
    for (let round = 0; round < rounds; round++) {
      // Each pair back to back, in alternating order: a shared machine's load drifts less within a pair.
      const pair = async (a: 'ext4' | 'squashfs', b: 'cp' | 'unsquashfs') => {
        const prepareB = b === 'unsquashfs' ? madeAndMounted : undefined;
        if (round % 2 === 0) {
          times[a].push(await onFreshTarget(a, runs[a]));
          times[b].push(await onFreshTarget(b, runs[b], prepareB));
        } else {
          times[b].push(await onFreshTarget(b, runs[b], prepareB));
          times[a].push(await onFreshTarget(a, runs[a]));
        }
      };
      await pair('ext4', 'cp');
      if (withFormer) times.e2image.push(await onFreshTarget('e2image', runs.e2image));
      await pair('squashfs', 'unsquashfs');
      console.error(
        `round ${round + 1}: ext4 install ${times.ext4.at(-1)!.toFixed(0)} ms, cp ${times.cp.at(-1)!.toFixed(0)} ms; ` +
          `squashfs install ${times.squashfs.at(-1)!.toFixed(0)} ms, unsquashfs ${times.unsquashfs.at(-1)!.toFixed(0)} ms` +
          (withFormer ? `; former ext4 install ${times.e2image.at(-1)!.toFixed(0)} ms` : ''),
      );
    }
    await rm(path.join(work, 'target.dev'), { force: true });

    const ms = (x: number) => `${x.toFixed(0)} ms`;
    // The median of each round's ratio: the pairs ran back to back.
    const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!));
    const ext4Ratio = ratio(times.ext4, times.cp);
    const squashfsRatio = ratio(times.squashfs, times.unsquashfs);
    // The fastest run of each: the one the machine's other load disturbed least.
    const best = (a: number[], b: number[]) => Math.min(...a) / Math.min(...b);
    const cpuRatio = (a: string, b: string) => median(cpu[a]!) / median(cpu[b]!);
    console.log(
      `image install: 1 GiB ext4 image, ${images.usedPercent} % used (${(ext4Info.dataBytes / MiB).toFixed(0)} MiB in use); ${rounds} rounds, median times and median of the rounds' ratios, cold cache, until synced`,
    );
    const line = (what: string, a: 'ext4' | 'squashfs', b: 'cp' | 'unsquashfs', r: number, target: number) =>
      `  ${what}: ${ms(median(times[a]))} vs ${ms(median(times[b]))}: ${r.toFixed(2)}× (target ≤ ${target}×) ${r <= target ? 'met' : 'NOT met'};` +
      ` fastest runs ${ms(Math.min(...times[a]))} vs ${ms(Math.min(...times[b]))}: ${best(times[a], times[b]).toFixed(2)}×;` +
      ` CPU ${ms(median(cpu[a]!))} vs ${ms(median(cpu[b]!))}: ${cpuRatio(a, b).toFixed(2)}×`;
    console.log(line('ext4 install vs cp --sparse=always', 'ext4', 'cp', ext4Ratio, 1.3));
    if (withFormer) {
      const former = ratio(times.e2image, times.cp);
      console.log(
        `  former ext4 install (e2image -ra, e2fsck -f -y, resize2fs) vs cp: ${ms(median(times.e2image))}: ${former.toFixed(2)}×;` +
          ` fastest run ${ms(Math.min(...times.e2image))}; CPU ${ms(median(cpu.e2image!))}`,
      );
    }
    console.log(line('squashfs install vs unsquashfs into a made ext4', 'squashfs', 'unsquashfs', squashfsRatio, 1.2));
    console.log(
      `  inspect (not in the ratios): ext4 ${ms(inspectExt4Ms)} (dumpe2fs, e2fsck -f -n, debugfs), squashfs ${ms(inspectSquashfsMs)} (unsquashfs -s, -lln, -cat)`,
    );
    for (const [name, byTool] of Object.entries(phases)) {
      const parts = Object.entries(byTool).map(([tool, xs]) => `${tool} ${ms(median(xs))}`);
      console.log(`  ${name} install phases (median of each, sync = the flush after it): ${parts.join(', ')}`);
    }
    const load = loadavg().map((l) => Number(l.toFixed(2)));
    console.log(`  load average (1, 5, 15 min) after: ${load.join(', ')}`);
    const resultsDir = path.join(repoRoot, 'bench/results');
    await mkdir(resultsDir, { recursive: true });
    await writeFile(
      path.join(resultsDir, `image-install-${new Date().toISOString().replaceAll(':', '-')}.json`),
      `${JSON.stringify({ rounds, usedPercent: images.usedPercent, ext4Ratio, squashfsRatio, inspectExt4Ms, inspectSquashfsMs, times, phases, cpu, load }, null, 2)}\n`,
    );
  } finally {
    for (const dir of [...mounts].reverse()) {
      try {
        sh(['umount', '-l', dir]);
      } catch {}
    }
    for (const device of [...loops].reverse()) {
      try {
        sh(['losetup', '-d', device]);
      } catch {}
    }
    await rm(work, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
await main(roundsAt >= 0 ? Number(args[roundsAt + 1]) : 5, args.includes('--former'));

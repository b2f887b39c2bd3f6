// Carry-over time against tree size (issue 16): the same 2,000-file change set (bench/carry-over-trees.ts)
// on trees of 50,000, 200,000 and 500,000 files, in the VM on real LVM thin. Per size: `rsync -aHAX` of
// the persisted paths, tar-diff given the volumes (thin_delta) and tar-diff over the whole trees, each
// on a fresh snapshot of the new base with the page cache dropped (bench/carry-over-guest.ts).
// Targets: at the largest size tar-diff with thin_delta ≤ 0.3× rsync; from the smallest to the largest
// its time grows ≤ 1.5×.
//   node test-e2e/bin/run-ts.mjs bench/carry-over-scale.ts [FILES...] [--subjects rsync,thin,whole]
// The base images are built on the host (loop devices: root) once per size and kept in
// test-e2e/.work/bench-trees/ (delete them to rebuild).
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { execa } from 'execa';
import { makeScratchDir, repoRoot, runInVm, workDir } from '../test-e2e/src/index.ts';
import { baseFiles } from './carry-over-trees.ts';

const SUBJECTS: Record<string, string> = {
  rsync: 'rsync',
  thin: 'tar-diff (thin_delta)',
  whole: 'tar-diff (whole trees)',
};

interface GuestResult {
  subjects: { name: string; ms: number; steps: string[]; report?: Record<string, number> }[];
  entries: number;
  changed: number;
}

/** The base image of a tree of `files` files, built once (ext4 on a loop device, filled by Node). */
async function baseImage(files: number): Promise<string> {
  const dir = path.join(workDir, 'bench-trees');
  const image = path.join(dir, `base-${files}.img`);
  if (existsSync(image)) return image;
  await mkdir(dir, { recursive: true });
  const temp = `${image}.tmp`;
  const mnt = `${temp}.mnt`;
  await writeFile(temp, '');
  const size = Math.max(1, Math.ceil(files / 150_000)) * 1024 ** 3;
  await execa('truncate', ['-s', String(size), temp]);
  await execa('mkfs.ext4', ['-q', '-F', '-N', String(Math.ceil(files * 1.1) + 10_000), temp]);
  await mkdir(mnt, { recursive: true });
  const loop = (await execa('losetup', ['--find', '--show', temp])).stdout.trim();
  try {
    await execa('mount', [loop, mnt]);
    // Each directory made once, before any file is written into it (the writers run 64 at a time).
    const made = new Map<string, Promise<unknown>>();
    const queue = baseFiles(files - 2000);
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (let next = queue.next(); !next.done; next = queue.next()) {
          const [p, text] = next.value;
          const d = path.dirname(p);
          if (!made.has(d)) made.set(d, mkdir(path.join(mnt, d), { recursive: true }));
          await made.get(d);
          await writeFile(path.join(mnt, p), text);
        }
      }),
    );
  } finally {
    await execa('umount', [mnt]).catch((e) => console.error(String(e)));
    await execa('losetup', ['-d', loop]);
    await rm(mnt, { recursive: true, force: true });
  }
  await rename(temp, image);
  return image;
}

async function guestBundle(dir: string): Promise<string> {
  const bundle = path.join(dir, 'carry-over-guest.mjs');
  await build({
    entryPoints: [path.join(repoRoot, 'bench/carry-over-guest.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@imgbased/source'],
    alias: { '@imgbased/persistence-tar-diff': path.join(repoRoot, 'plugins/persistence-tar-diff/src/index.ts') },
    nodePaths: [path.join(repoRoot, 'plugins/persistence-tar-diff/node_modules')],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return bundle;
}

const args = process.argv.slice(2);
const subjectsAt = args.indexOf('--subjects');
const chosen = subjectsAt >= 0 ? args[subjectsAt + 1]!.split(',').map((s) => SUBJECTS[s]!) : Object.values(SUBJECTS);
const sizes = args.filter((a, i) => /^\d+$/.test(a) && !(subjectsAt >= 0 && i === subjectsAt + 1)).map(Number);
const dir = await makeScratchDir('bench-carry-over');
const bundle = await guestBundle(dir);
const results: Record<number, GuestResult> = {};
try {
  for (const files of sizes.length > 0 ? sizes : [50_000, 200_000, 500_000]) {
    const started = Date.now();
    const image = await baseImage(files);
    console.error(`${files} files: base image ready (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    const run = await runInVm({
      command: ['node', bundle, String(files - 2000), ...chosen],
      disks: [{ path: path.join(dir, `pv-${files}.img`), sizeBytes: 12 * 1024 ** 3 }, { path: image }],
      memoryMb: 2048,
      timeoutMs: 3_600_000,
    });
    await rm(path.join(dir, `pv-${files}.img`), { force: true });
    const line = run.stdout.split('\n').find((l) => l.startsWith('@@RESULT@@'));
    if (run.exitCode !== 0 || line === undefined)
      throw new Error(`carry-over bench failed at ${files} files:\n${run.stdout}\n${run.stderr}\n${run.consoleTail}`);
    console.error(run.stderr.trim());
    const result = JSON.parse(line.slice('@@RESULT@@'.length)) as GuestResult;
    results[files] = result;
    const rsync = result.subjects.find((s) => s.name === 'rsync');
    console.log(`${files} files (${result.entries} entries listed by find), ${result.changed} changed by the admin:`);
    for (const s of result.subjects) {
      const ratio = rsync && s !== rsync ? ` = ${(s.ms / rsync.ms).toFixed(2)}× rsync` : '';
      console.log(
        `  ${s.name.padEnd(24)} ${(s.ms / 1000).toFixed(1).padStart(7)} s${ratio}${s.report ? ` ${JSON.stringify(s.report)}` : ''}`,
      );
      if (s.name.includes('thin_delta')) for (const step of s.steps) console.log(`      ${step}`);
    }
  }
  const thin = Object.entries(results).map(
    ([n, r]) => [Number(n), r.subjects.find((s) => s.name.includes('thin_delta'))] as const,
  );
  const [small, large] = [thin[0], thin.at(-1)];
  if (small?.[1] && large?.[1] && large[0] !== small[0]) {
    const growth = large[1].ms / small[1].ms;
    console.log(
      `targets: thin_delta from ${small[0]} to ${large[0]} files grows ${growth.toFixed(2)}× (≤ 1.5×: ${growth <= 1.5 ? 'met' : 'NOT met'})`,
    );
  }
  const rsyncLarge = large && results[large[0]]!.subjects.find((s) => s.name === 'rsync');
  if (large?.[1] && rsyncLarge) {
    const ratio = large[1].ms / rsyncLarge.ms;
    console.log(
      `targets: thin_delta at ${large[0]} files = ${ratio.toFixed(2)}× rsync -aHAX (≤ 0.3×: ${ratio <= 0.3 ? 'met' : 'NOT met'})`,
    );
  }
  await mkdir(path.join(repoRoot, 'bench/results'), { recursive: true });
  await writeFile(
    path.join(repoRoot, 'bench/results', `carry-over-scale-${new Date().toISOString().replaceAll(':', '-')}.json`),
    `${JSON.stringify(results, null, 2)}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

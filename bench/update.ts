// The whole `imgbase update`, timed by phase, on real LVM thin in the test VM:
//   node test-e2e/bin/run-ts.mjs bench/update.ts
// The host: the thinp fixture, `layout --init`, and 2,000 files under /etc that the admin changed in the
// running layer (the new image ships them unchanged, so all 2,000 are carried over). The image: a 1 GiB
// ext4 file system about 60 % used (40 files of 15 MiB, the fixture's OS tree, the same 2,000 /etc files).
// The phases are read from `imgbase update --debug`'s step lines, each stamped by the guest's clock as it
// arrives: prepare (resolve, checksum, inspect, lock, recovery, space plan), create, install (the copy),
// protect + layer (read-only base, snapshot, fsck + new UUID), persist (the carry-over), boot (the entry),
// commit (no bootloader here: no boot phase). The result goes to bench/results/update-<time>.json.
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { buildThinpHostDisk, makeScratchDir, repoRoot, runInVm } from '../test-e2e/src/index.ts';

const MiB = 1024 ** 2;
const imgbase = path.join(repoRoot, 'apps/cli/bin/imgbase');
const FILES = 2000;
const PHASES = ['create', 'install', 'protect', 'persist', 'boot', 'commit'] as const;

const etcFile = (n: number) => `etc/bench/f${String(n).padStart(4, '0')}.conf`;

/** A 1 GiB ext4 image, about 60 % used, with the OS tree and the 2,000 /etc files. */
async function buildImage(dir: string): Promise<string> {
  const tree = path.join(dir, 'tree');
  for (const d of ['etc/bench', 'usr/lib/bench', 'boot', 'var/lib', 'root'])
    await mkdir(path.join(tree, d), { recursive: true });
  await writeFile(path.join(tree, 'etc/os-release'), 'NAME="Bench Node"\nVERSION="2-1"\nIMAGE_NVR=Bench-2-1\n');
  await writeFile(path.join(tree, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(path.join(tree, 'etc/group'), 'root:x:0:\n');
  for (let n = 0; n < FILES; n++) await writeFile(path.join(tree, etcFile(n)), `setting ${n} = vendor default\n`);
  const chunk = Buffer.alloc(MiB);
  for (let f = 0; f < 40; f++) {
    const handle = await open(path.join(tree, `usr/lib/bench/blob${f}`), 'w');
    for (let m = 0; m < 15; m++) {
      for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((f * 7919 + m * 104729 + i * 31) >>> 0, i);
      await handle.write(chunk);
    }
    await handle.close();
  }
  const image = path.join(dir, 'Bench-2-1.img');
  await writeFile(image, '');
  await execa('truncate', ['-s', '1G', image]);
  await execa('mkfs.ext4', ['-q', '-F', '-d', tree, image]);
  await rm(tree, { recursive: true, force: true });
  return image;
}

function script(image: string): string {
  return `set -e
lvm vgchange -ay onn >&2
mkdir -p /mnt/root && mount /dev/onn/root /mnt/root && mkdir -p /mnt/root/etc/bench
i=0; while [ $i -lt ${FILES} ]; do printf 'setting %d = vendor default\\n' $i > /mnt/root/etc/bench/f$(printf %04d $i).conf; i=$((i+1)); done
umount /mnt/root
${imgbase} layout --init Base-1-1 --from onn/root >&2
mount /dev/onn/Base-1-1+1 /mnt/root
for f in /mnt/root/etc/bench/*.conf; do echo 'changed by the admin' >> $f; done
umount /mnt/root
sync
echo "T $(date +%s.%N) start"
${imgbase} update --debug --json ${image} 2>&1 >/tmp/update.json | while IFS= read -r line; do echo "T $(date +%s.%N) $line"; done
echo "T $(date +%s.%N) end"
echo "CARRIED $(grep -c '"/etc/bench/' /tmp/update.json || true)"
${imgbase} layout >&2`;
}

/** Seconds of each phase, from the stamped step lines. */
function phases(out: string): Record<string, number> {
  const marks: [string, number][] = [];
  for (const m of out.matchAll(/^T (\d+\.\d+) (?:\[(\w+)\]|(start|end))/gm)) {
    const name = m[2] ?? m[3]!;
    if (name === 'start' || name === 'end' || (PHASES as readonly string[]).includes(name)) {
      if (!marks.some(([n]) => n === name)) marks.push([name, Number(m[1])]);
    }
  }
  const result: Record<string, number> = {};
  for (let i = 0; i < marks.length - 1; i++) {
    const name = marks[i]![0] === 'start' ? 'prepare' : marks[i]![0];
    result[name] = Number((marks[i + 1]![1] - marks[i]![1]).toFixed(2));
  }
  result.total = Number((marks.at(-1)![1] - marks[0]![1]).toFixed(2));
  return result;
}

async function main(): Promise<number> {
  const dir = await makeScratchDir('bench-update');
  try {
    console.log('Building a 1 GiB ext4 image (60 % used) and a host with 2,000 /etc files changed by the admin…');
    const image = await buildImage(dir);
    const host = await buildThinpHostDisk(path.join(dir, 'host.img'));
    const run = await runInVm({
      command: ['sh', '-c', script(image)],
      disks: [{ path: host.path }],
      timeoutMs: 1_800_000,
    });
    if (run.exitCode !== 0) {
      console.error(`The update failed (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}\n${run.consoleTail}`);
      return 1;
    }
    const timing = phases(run.stdout);
    const carried = Number(/^CARRIED (\d+)$/m.exec(run.stdout)?.[1] ?? 0);
    if (carried !== FILES) {
      console.error(
        `The update carried ${carried} of the ${FILES} changed /etc files over:\n${run.stdout.slice(-4000)}`,
      );
      return 1;
    }
    console.log('imgbase update, by phase (seconds, 1 vCPU under TCG):');
    for (const [name, seconds] of Object.entries(timing)) console.log(`  ${name.padEnd(8)} ${seconds.toFixed(2)}`);
    const results = path.join(repoRoot, 'bench/results');
    await mkdir(results, { recursive: true });
    const file = path.join(results, `update-${new Date().toISOString().replaceAll(':', '-')}.json`);
    await writeFile(file, `${JSON.stringify({ files: FILES, imageBytes: 1024 * MiB, phases: timing }, null, 2)}\n`);
    console.log(`Written to ${path.relative(repoRoot, file)}`);
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();

// Runs inside the test VM for bench/carry-over-scale.ts (bundled from the sources there): one tree
// size. The base image built on the host (/dev/vdb) is copied into a thin volume; the old layer and
// the new base are thin snapshots of it; the admin's change set goes onto the old layer (mounted
// read-write, as the running layer is), the new base's own onto the new base. Then, each on a fresh
// snapshot of the new base and with the page cache dropped first: `rsync -aHAX` of the persisted
// paths, tar-diff given the volumes (thin_delta), tar-diff over the whole trees. Prints one line:
// @@RESULT@@ {subjects: [{name, ms, steps}], changed}.
// Usage: node carry-over-guest.mjs SMALL_FILES [SUBJECT...]
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineEvent, PersistencePolicy } from '@imgbased/core';
import { TarDiffPersistence } from '@imgbased/persistence-tar-diff';
import { ExecaCommandRunner } from '@imgbased/system';
import { adminChanges, newBaseChanges } from './carry-over-trees.ts';

const [smallArg = '50000', ...wanted] = process.argv.slice(2);
const subjects = wanted.length > 0 ? wanted : ['rsync', 'tar-diff (thin_delta)', 'tar-diff (whole trees)'];
const VG = 'bvg';
const sh = (...argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
const lvm = (...args: string[]) => sh('lvm', ...args);
const mnt = (name: string) => `/mnt/${name}`;
const policy: PersistencePolicy = { paths: ['/etc', '/srv'], excludes: [], onConflict: 'keep-admin' };

/** Applies a change set (bench/carry-over-trees.ts) to the tree at `root`. */
async function apply(root: string, set: ReturnType<typeof adminChanges>): Promise<void> {
  for (const d of set.mkdir) await mkdir(join(root, d), { recursive: true });
  for (const [p, text] of set.write) await writeFile(join(root, p), text);
  for (const p of set.chmod) await chmod(join(root, p), 0o600);
  for (const p of set.remove) await rm(join(root, p));
}

async function main(): Promise<void> {
  const small = Number(smallArg);
  const started = performance.now();
  const log = (what: string) =>
    process.stderr.write(`+${((performance.now() - started) / 1000).toFixed(1)} s ${what}\n`);
  sh('pvcreate', '-q', '/dev/vda');
  lvm('vgcreate', '-q', VG, '/dev/vda');
  lvm('lvcreate', '-q', '--type', 'thin-pool', '-L', '5G', '--poolmetadatasize', '256M', '-n', 'pool', VG);
  const bytes = Number(sh('blockdev', '--getsize64', '/dev/vdb').toString().trim());
  lvm('lvcreate', '-q', '-V', `${bytes}b`, '--thin', '-n', 'base', `${VG}/pool`);
  // Only the blocks the file system uses: the thin volume stays as sparse as the image.
  sh('dd', 'if=/dev/vdb', `of=/dev/${VG}/base`, 'bs=1M', 'conv=sparse,fsync', 'status=none');
  log('base copied into its thin volume');
  for (const name of ['layer', 'next']) {
    lvm('lvcreate', '-q', '-s', '-n', name, `${VG}/base`);
    lvm('lvchange', '-q', '-ay', '-K', `${VG}/${name}`);
  }
  for (const m of ['base', 'layer', 'next', 'new']) await mkdir(mnt(m), { recursive: true });
  sh('mount', `/dev/${VG}/next`, mnt('next'));
  await apply(mnt('next'), newBaseChanges());
  sh('umount', mnt('next'));
  sh('mount', '-o', 'ro', `/dev/${VG}/base`, mnt('base'));
  sh('mount', `/dev/${VG}/layer`, mnt('layer'));
  const changes = adminChanges(small);
  await apply(mnt('layer'), changes);
  sh('sync');
  log('change sets applied');

  const plugin = new TarDiffPersistence(new ExecaCommandRunner());
  const results = [];
  for (const [i, subject] of subjects.entries()) {
    const target = `new${i}`;
    lvm('lvcreate', '-q', '-s', '-n', target, `${VG}/next`);
    lvm('lvchange', '-q', '-ay', '-K', `${VG}/${target}`);
    sh('mount', `/dev/${VG}/${target}`, mnt('new'));
    sh('sync');
    await writeFile('/proc/sys/vm/drop_caches', '3');
    const steps: string[] = [];
    const t0 = performance.now();
    const context = {
      report: (e: EngineEvent) => {
        if (e.type === 'step') steps.push(`+${(performance.now() - t0).toFixed(0)} ms ${e.message}`);
        else if (e.type === 'command-done' && e.durationMs > 100)
          steps.push(
            `+${(performance.now() - t0).toFixed(0)} ms   ${e.argv.slice(0, 3).join(' ')}… ${e.durationMs} ms`,
          );
      },
    };
    const trees = { oldBase: mnt('base'), oldLayer: mnt('layer'), newLayer: mnt('new') };
    let report: Record<string, number> | undefined;
    if (subject === 'rsync') {
      sh('rsync', '-aHAX', '--relative', `${mnt('layer')}/./etc`, `${mnt('layer')}/./srv`, `${mnt('new')}/`);
    } else {
      const volumes = subject.includes('thin_delta') ? { vg: VG, oldBase: 'base', oldLayer: 'layer' } : undefined;
      const r = await plugin.carryOver({ ...trees, volumes }, policy, { dryRun: false }, context);
      report = { copied: r.copied.length, deleted: r.deleted.length, conflicts: r.conflicts.length };
    }
    const ms = performance.now() - t0;
    results.push({ name: subject, ms, steps, report });
    log(`${subject}: ${ms.toFixed(0)} ms`);
    sh('umount', mnt('new'));
    lvm('lvremove', '-q', '-y', `${VG}/${target}`);
  }
  const entries = Number(
    sh('sh', '-c', `find ${mnt('base')}/etc ${mnt('base')}/srv | wc -l`)
      .toString()
      .trim(),
  );
  process.stdout.write(
    `@@RESULT@@${JSON.stringify({ subjects: results, entries, changed: changes.write.length + changes.chmod.length + changes.remove.length })}\n`,
  );
}

await main();

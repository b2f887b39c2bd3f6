// Crash consistency, on real LVM thin, a real /boot and extlinux or grub: every changing verb killed
// (SIGKILL, from a named fail point inside the process) after each step it takes, every command it
// runs and every file step of a boot write (update: a sample covering each kind of step, see its row
// in support/crash-plan.ts); after each kill the row's next command, then the invariants, read with
// the real tools. All cases run in one VM boot per group (each on a fresh case of a golden disk:
// support/crash-golden.ts). Then, per verb, the disk as its worst step's kill left it is booted
// (SeaBIOS, extlinux or grub): the layer that boots must be the previous one (or the new one, once
// committed). The table goes to the test output and to test-e2e/.work/crash-table-<group>.md.
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bootDisk,
  buildOriginalHostDisk,
  buildProofInitrd,
  buildThinpHostDisk,
  makeScratchDir,
  repoRoot,
  runInVm,
  workDir,
} from '../src/index.ts';
import { crashGoldens, type GoldenName, goldenScript } from './support/crash-golden.ts';
import { CRASH_VERBS, type CrashVerb, type CrashVerbResult, cellProblem, renderTable } from './support/crash-plan.ts';

const IMGBASE = path.join(repoRoot, 'apps/cli/bin/imgbase');
const CASES = path.join(repoRoot, 'test-e2e/guest-bin/crash-cases.mjs');
/** IMGBASED_E2E_CRASH_VERBS=name,name: only these rows (to work on one verb). */
const only = process.env.IMGBASED_E2E_CRASH_VERBS?.split(',');
/** The smallest fixture: the golden copies of it are read whole (zeros too) once per VM. */
const DISK_BYTES = 2 * 1024 ** 3;
/**
 * Two VMs at once (one per core), each with the golden disks its rows need, the rows shared by their
 * time in the VM (layout --init alone takes about as long as base --remove and layer --add together;
 * measured 2026-12-01 under load: a 900 s, b 797 s in the VM before boot --edit-kernel-args moved to b).
 */
const GROUPS: Record<string, (verb: CrashVerb) => boolean> = {
  a: (v) => ['layout --init', 'boot --set-default', 'boot --next', 'update'].includes(v.name),
  b: (v) => !GROUPS.a!(v),
};

describe.concurrent('crash consistency: every changing verb killed at every step', () => {
  for (const [group, inGroup] of Object.entries(GROUPS)) {
    const verbs = CRASH_VERBS.filter((v) => inGroup(v) && (only === undefined || only.includes(v.name)));
    it.skipIf(verbs.length === 0)(
      `group ${group} (${verbs.map((v) => v.name).join(', ')}): the invariants hold after each kill and the next command; the previous layer boots after the worst`,
      { timeout: 30 * 60_000 },
      async () => {
        const started = Date.now();
        const dir = await makeScratchDir(`crash-${group}`);
        const fixture = await buildThinpHostDisk(path.join(dir, 'host.img'), { sizeBytes: DISK_BYTES });
        const initrd = path.join(dir, 'initrd.img');
        const { kernelVersion, kernel } = await buildProofInitrd(initrd);
        const needed = new Set<GoldenName | 'update'>(verbs.map((v) => v.golden));
        if (verbs.some((v) => v.name === 'update')) needed.add('update');
        const original = needed.has('original')
          ? await buildOriginalHostDisk(path.join(dir, 'original.img'))
          : undefined;
        const guestDisks: string[] = original === undefined ? [] : [original];
        const deviceOf = (i: number) => `/dev/vd${String.fromCharCode(98 + i)}`;
        const outDisks: Record<string, string> = {};
        for (const [i, verb] of verbs.entries()) {
          if (verb.bootProof === false) continue;
          const file = path.join(dir, `worst-${i}.img`);
          await writeFile(file, '');
          await truncate(file, DISK_BYTES);
          outDisks[verb.name] = deviceOf(guestDisks.length);
          guestDisks.push(file);
        }
        const planFile = path.join(dir, 'plan.json');
        await writeFile(
          planFile,
          JSON.stringify({
            imgbase: IMGBASE,
            goldens: crashGoldens(original === undefined ? undefined : deviceOf(0)),
            outDisks,
            verbs,
          }),
        );
        const script = `${goldenScript({ imgbase: IMGBASE, kernel, initrd, kernelVersion, needed })}\nexec node ${CASES} ${planFile}`;
        const run = await runInVm({
          command: ['sh', '-c', script],
          disks: [{ path: fixture.path }, ...guestDisks.map((p) => ({ path: p }))],
          memoryMb: 1536,
          timeoutMs: 40 * 60_000,
        });
        await mkdir(workDir, { recursive: true });
        await writeFile(path.join(workDir, `crash-guest-${group}.log`), run.stderr);
        expect(run.exitCode, `${run.stderr.slice(-4000)}\n${run.consoleTail}`).toBe(0);
        const results = JSON.parse(run.stdout) as CrashVerbResult[];
        await writeFile(path.join(workDir, `crash-results-${group}.json`), run.stdout);
        const inVmMs = run.durationMs;

        // One real boot per verb, of the disk its worst kill left (two at a time: 2 cores).
        const boots: Record<string, string> = {};
        const booted: Record<string, { bootId: string | undefined; console: string }> = {};
        const queue = verbs.filter((v) => outDisks[v.name] !== undefined);
        const diskOf = (name: string) => guestDisks[outDisks[name]!.charCodeAt(7) - 98]!;
        await Promise.all(
          [0, 1].map(async () => {
            for (let verb = queue.shift(); verb !== undefined; verb = queue.shift()) {
              const result = await bootDisk({ disk: diskOf(verb.name), firmware: 'seabios' });
              const id = result.proof === undefined ? undefined : (result.proof.bootId ?? 'root');
              booted[verb.name] = { bootId: id, console: result.console.slice(-2000) };
              const worst = results.find((r) => r.verb === verb.name)?.worst;
              boots[verb.name] = `${id ?? 'nothing booted'} (after step ${worst}, ${result.durationMs} ms)`;
            }
          }),
        );

        const table = renderTable(results, boots);
        const cells = results.reduce((n, r) => n + r.cells.length, 0);
        const timing = `group ${group}: ${cells} kill cases of ${results.length} verbs in one VM: ${Math.round(inVmMs / 1000)} s; total ${Math.round((Date.now() - started) / 1000)} s`;
        console.log(`${table}\n${timing}`);
        await writeFile(path.join(workDir, `crash-table-${group}.md`), `${table}\n${timing}\n`);

        for (const r of results) {
          const verb = verbs.find((v) => v.name === r.verb)!;
          expect(r.full.after, `${r.verb} run whole leaves the host consistent`).toEqual([]);
          if (verb.bootProof !== false) expect(r.cells.length, `${r.verb} has steps`).toBeGreaterThan(0);
          for (const cell of r.cells)
            expect(cellProblem(cell, verb.boots), `${r.verb} killed after step ${cell.n} ${cell.name}`).toBeUndefined();
          if (outDisks[r.verb] !== undefined) {
            const boot = booted[r.verb]!;
            expect(verb.boots, `${r.verb}: booted ${boot.bootId}\n${boot.console}`).toContain(boot.bootId);
          }
        }
      },
    );
  }
});

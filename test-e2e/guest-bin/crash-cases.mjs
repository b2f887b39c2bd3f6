// Runs inside the test VM: the crash table. For every verb of the plan: run it once with a step trace
// (IMGBASED_FAILPOINT_TRACE) to learn its steps, then once per step (or per sampled step, a row's
// `sample`) killed right after it (IMGBASED_FAILPOINT=*:<n>, SIGKILL from inside the process), each on
// a fresh case of a golden disk (a loop device; /boot its first partition): a copy of a sparse image
// file, or a device-mapper snapshot of a whole disk. After the kill, the row's next command (the same
// verb again unless the row names one) and the invariants (crash-check.mjs). Then the worst step
// again, its disk written to the verb's output disk for a real boot on the host. Prints one JSON
// document.
// Usage: node crash-cases.mjs PLAN.json
import { existsSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { bootableNow, nextBoot, run, sh, violations } from './crash-check.mjs';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { imgbase, goldens } = plan;
const CASE = '/tmp/crash-case.img';
const COW = '/tmp/crash-case.cow';
const SNAPSHOT = 'crash-case';
const log = (line) => writeSync(2, `crash-cases: ${line}\n`);
let loop;
let cowLoop;

/** A fresh case of `golden` on a loop device, its imgbased.conf in place, the VG active, /boot mounted. */
function attach(golden) {
  if (golden.file !== undefined) {
    sh(`cp --sparse=always ${golden.file} ${CASE}`);
    loop = sh(`losetup -P -f --show ${CASE}`).trim();
  } else {
    // Copy-on-write over the read-only golden disk: nothing of its 8 GiB is copied.
    sh(`rm -f ${COW} && truncate -s 4G ${COW}`);
    cowLoop = sh(`losetup -f --show ${COW}`).trim();
    const sectors = sh(`blockdev --getsz ${golden.device}`).trim();
    // No udev in the VM: the node under /dev/mapper is made by hand.
    sh(`dmsetup create ${SNAPSHOT} --table "0 ${sectors} snapshot ${golden.device} ${cowLoop} N 8"`);
    sh(`dmsetup mknodes ${SNAPSHOT}`);
    loop = sh(`losetup -P -f --show /dev/mapper/${SNAPSHOT}`).trim();
  }
  writeFileSync('/etc/imgbased.conf', golden.config);
  sh(`lvm vgchange -ay onn >/dev/null && mount ${loop}p1 /boot`);
  if (golden.open !== undefined) sh(golden.open);
}

/** Unmounts everything on it (what a kill left too), deactivates the VG, detaches the loop device. */
function detach() {
  run(['sh', '-c', 'findmnt -rn -o TARGET | grep imgbased-mnt- | xargs -r -n1 umount -l']);
  run(['umount', '/boot']);
  const off = run(['lvm', 'vgchange', '-an', 'onn']);
  if (off.status !== 0) log(`vgchange -an: ${off.stderr}`);
  run(['losetup', '-d', loop]);
  if (cowLoop !== undefined) {
    const removed = run(['dmsetup', 'remove', '--retry', SNAPSHOT]);
    if (removed.status !== 0) log(`dmsetup remove: ${removed.stderr}`);
    run(['losetup', '-d', cowLoop]);
    rmSync(COW, { force: true });
    cowLoop = undefined;
  }
  rmSync('/run/imgbased', { recursive: true, force: true });
}

/**
 * The steps a row kills at: all, or one per selector of its `sample`: of the steps that match any of
 * its `match` (that name, the detail containing that text), the nth (1-based; -1: the last), labelled
 * with the selector's kind. A selector that matches nothing (the verb's steps changed) is a cell that
 * did not hold: the row must be looked at again.
 */
function pickSteps(steps, sample) {
  if (sample === undefined) return steps;
  return sample
    .map((selector) => {
      const matching = steps.filter((s) =>
        selector.match.some((m) => s.name === m.name && s.detail.includes(m.detail ?? '')),
      );
      const nth = selector.nth ?? 1;
      const step = nth < 0 ? matching.at(nth) : matching[nth - 1];
      if (step === undefined) return { n: 0, name: selector.kind, detail: JSON.stringify(selector), missing: true };
      return { ...step, kind: selector.kind };
    })
    .sort((a, b) => a.n - b.n);
}

/** Killed by the fail point: the SIGKILL itself, or the launcher shell's 137 for its killed Node child. */
const wasKilled = (r) => r.signal === 'SIGKILL' || r.status === 137;

function imgbaseRun(args, env = {}) {
  return run([imgbase, ...args], env);
}

/** `layout --init` and the rest as a row's argv says, on the attached copy. */
function traceSteps(verb, golden) {
  attach(golden);
  const trace = '/tmp/crash-trace.tsv';
  rmSync(trace, { force: true });
  const started = Date.now();
  const full = imgbaseRun(verb.argv, { IMGBASED_FAILPOINT_TRACE: trace });
  const durationMs = Date.now() - started;
  const steps = existsSync(trace)
    ? readFileSync(trace, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [n, name, detail] = line.split('\t');
          return { n: Number(n), name, detail };
        })
    : [];
  const after = violations();
  detach();
  return { exit: full.status, stderr: full.stderr, steps, after, durationMs };
}

function killCase(verb, golden, n) {
  const started = Date.now();
  const times = [];
  const lap = () => times.push(Date.now() - started);
  attach(golden);
  lap();
  const killed = imgbaseRun(verb.argv, { IMGBASED_FAILPOINT: `*:${n}` });
  lap();
  const atKill = { bootable: bootableNow(), boots: nextBoot(), damage: violations() };
  lap();
  const next = imgbaseRun([...(verb.next ?? verb.argv), '--json']);
  lap();
  let nextCode = null;
  try {
    nextCode = JSON.parse(next.stdout).error?.code ?? null;
  } catch {}
  const after = violations();
  lap();
  detach();
  lap();
  log(`laps ${times.join(' ')}`);
  return {
    killed: wasKilled(killed),
    killedStderr: wasKilled(killed) ? '' : killed.stderr.slice(-400),
    bootableAtKill: atKill.bootable ?? null,
    bootsAtKill: atKill.boots ?? null,
    damage: atKill.damage,
    nextExit: next.status,
    nextCode,
    nextStderr: next.status === 0 ? '' : next.stderr.slice(-400),
    after,
    durationMs: Date.now() - started,
  };
}

/** The worst step again, its disk copied (sparse) to the verb's output disk, for a real boot. */
function saveWorst(verb, golden, n, disk) {
  attach(golden);
  imgbaseRun(verb.argv, { IMGBASED_FAILPOINT: `*:${n}` });
  sh('sync');
  detach();
  sh(`dd if=${CASE} of=${disk} bs=1M conv=sparse,fsync status=none`);
}

writeFileSync('/run/imgbased-failpoints.enable', '');
const results = [];
for (const verb of plan.verbs) {
  const golden = goldens[verb.golden];
  const traced = traceSteps(verb, golden);
  log(`${verb.name}: ${traced.steps.length} steps (exit ${traced.exit}, ${traced.durationMs} ms)`);
  const cells = [];
  const picked = pickSteps(traced.steps, verb.sample);
  if (picked.length < traced.steps.length) log(`${verb.name}: killing at ${picked.map((s) => s.n).join(' ')}`);
  for (const step of picked) {
    const cell = step.missing
      ? { ...step, killed: false, killedStderr: 'no step matches this sample selector', damage: [], after: [] }
      : { ...step, ...killCase(verb, golden, step.n) };
    log(`${verb.name} step ${step.n} ${step.name}: ${cell.after.length === 0 ? 'held' : cell.after.join('; ')}`);
    cells.push(cell);
  }
  // The worst step: the one whose kill left the most to repair (the later one on a tie).
  const worst = cells.reduce((w, c) => (w === undefined || c.damage.length >= w.damage.length ? c : w), undefined);
  if (worst && plan.outDisks[verb.name]) saveWorst(verb, golden, worst.n, plan.outDisks[verb.name]);
  results.push({ verb: verb.name, full: traced, cells, worst: worst?.n ?? null, next: verb.next, boots: verb.boots });
}
process.stdout.write(`${JSON.stringify(results)}\n`);

// imgbased's benchmarks. Each one times imgbased against a baseline measured in the same run and
// reports the ratio, so that the machine's speed cancels out. Timing is hyperfine's (Debian package).
//   pnpm bench                 all benchmarks
//   pnpm bench version layout  some of them
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { buildThinpHostDisk, makeScratchDir, repoRoot, runInVm } from '../test-e2e/src/index.ts';

interface HyperfineResult {
  command: string;
  mean: number;
  median: number;
  stddev: number;
  min: number;
  max: number;
}

interface Outcome {
  name: string;
  baseline: HyperfineResult;
  subject: HyperfineResult;
  ratio: number;
  target: number;
  notes?: string[];
}

const imgbase = path.join(repoRoot, 'apps/cli/bin/imgbase');
const resultsDir = path.join(repoRoot, 'bench/results');
const loadCli = path.join(repoRoot, 'bench/load-cli.cjs');

/** `imgbase --version` against `node -e 0`: what the CLI adds to Node's own start. Target ≤ 1.2×. */
async function versionBench(): Promise<Outcome> {
  const out = path.join(await makeScratchDir('bench'), 'version.json');
  await execa('hyperfine', [
    '-N',
    '--warmup',
    '5',
    '--runs',
    '40',
    '--style',
    'none',
    '--export-json',
    out,
    'node -e 0',
    `${imgbase} --version`,
  ]);
  const [baseline, subject] = (JSON.parse(await readFile(out, 'utf8')) as { results: HyperfineResult[] }).results;
  return outcome('imgbase --version vs node -e 0', baseline!, subject!, 1.2);
}

/**
 * `imgbase layout --json` over a volume group with 200 layers, in the VM, against the floor of any Node
 * program that lists it: `node -e 0` plus one bare `lvs --reportformat json` of the same group. Target
 * ≤ 1.5× (issue 16). Where the rest goes: the CLI's phase timestamps (IMGBASED_TIMING=1), medians.
 */
async function layoutBench(layers = 200): Promise<Outcome> {
  const dir = await makeScratchDir('bench');
  const host = await buildThinpHostDisk(path.join(dir, 'host.img'));
  // The layers are made with plain lvcreate (what is measured is the listing, not the making).
  const script = [
    'set -e',
    'lvm vgchange -ay onn >/dev/null',
    `${imgbase} layout --init Base-1-0 --from onn/root >/dev/null`,
    `for i in $(seq 2 ${layers}); do lvm lvcreate -qq --snapshot --addtag imgbased:layer -n "Base-1-0+$i" onn/Base-1-0 >/dev/null 2>&1; done`,
    `test "$(${imgbase} layout --layers | wc -l)" = ${layers}`,
    // How many lvm commands one listing runs (the original ran one per volume), and imgbased's own lvs.
    `${imgbase} --debug layout --json 2>&1 >/dev/null | grep '^\\$ lvm' > /tmp/lvm-commands || true`,
    'grep -c . /tmp/lvm-commands > /tmp/lvm-calls || true',
    `sed -n '1s/^\\$ //p' /tmp/lvm-commands > /tmp/lvs-own`,
    // The floor and the parts: Node's own start, lvs as imgbased asks it, and Node + loading the CLI
    // without running a verb (bench/load-cli.mjs).
    `hyperfine -N --warmup 2 --runs 15 --style none --export-json /tmp/layout.json 'lvm lvs --reportformat json onn' '${imgbase} layout --json' 'node -e 0' "$(cat /tmp/lvs-own)" 'node ${loadCli}' >&2`,
    `for i in $(seq 15); do IMGBASED_TIMING=1 ${imgbase} layout --json 2>&1 >/dev/null | grep '^imgbase-timing' >> /tmp/phases; done`,
    'cat /tmp/layout.json',
    'echo; cat /tmp/lvm-calls',
    'cat /tmp/phases',
  ].join('\n');
  const run = await runInVm({ command: ['sh', '-c', script], disks: [{ path: host.path }], timeoutMs: 900_000 });
  if (run.exitCode !== 0) throw new Error(`layout benchmark failed in the VM:\n${run.stderr}\n${run.consoleTail}`);
  const phaseLines = run.stdout.split('\n').filter((l) => l.startsWith('imgbase-timing '));
  const [json, calls] = run.stdout
    .split('\n')
    .filter((l) => !l.startsWith('imgbase-timing '))
    .join('\n')
    .trim()
    .split(/\n(?=\d+$)/);
  const [lvs, subject, node, ownLvs, load] = (JSON.parse(json!) as { results: HyperfineResult[] }).results;
  // The floor: Node's own start and the one lvs any listing needs.
  const baseline = floorOf(node!, lvs!);
  const ms = (r: HyperfineResult) => `${(r.median * 1000).toFixed(1)} ms`;
  const times = (r: HyperfineResult) => `${(r.median / lvs!.median).toFixed(2)}× the bare lvs`;
  return {
    ...outcome(
      `imgbase layout --json vs node -e 0 + lvs --reportformat json (${layers} layers, in the VM)`,
      baseline,
      subject!,
      1.5,
    ),
    notes: [
      `lvm commands per listing: ${Number(calls)}`,
      `the bare lvs: ${ms(lvs!)}; node -e 0: ${ms(node!)}; imgbase vs the bare lvs alone: ${times(subject!)}`,
      `lvs with imgbased's options (its fields, bytes): ${ms(ownLvs!)}, ${times(ownLvs!)}`,
      `Node + loading the CLI, no verb (bench/load-cli.cjs): ${ms(load!)}, ${times(load!)}`,
      `beyond Node + loading + its lvs (configuration, container, spawning, parsing, output): ${(
        (subject!.median - load!.median - ownLvs!.median) * 1000
      ).toFixed(0)} ms`,
      `phases (IMGBASED_TIMING=1, medians of ${phaseLines.length} runs, ms since the process started): ${phases(phaseLines)}`,
    ],
  };
}

/** A baseline made of two measured commands run one after the other (their medians added). */
function floorOf(a: HyperfineResult, b: HyperfineResult): HyperfineResult {
  const sum = (k: 'mean' | 'median' | 'min' | 'max') => a[k] + b[k];
  return {
    command: `${a.command} + ${b.command}`,
    mean: sum('mean'),
    median: sum('median'),
    stddev: Math.hypot(a.stddev, b.stddev),
    min: sum('min'),
    max: sum('max'),
  };
}

/** `node 95 (Node's start), entry +110, …`: each phase's median end and what it added to the one before. */
function phases(lines: readonly string[]): string {
  const runs = lines.map((l) => JSON.parse(l.slice('imgbase-timing '.length)) as Record<string, number | string>);
  if (runs.length === 0) return 'none printed';
  // Numbers are phases' ends; strings are notes (the code cache: accepted, rejected or none).
  const names = Object.keys(runs[0]!).filter((k) => typeof runs[0]![k] === 'number');
  const notes = Object.keys(runs[0]!).filter((k) => typeof runs[0]![k] === 'string');
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const at = names.map((n) => median(runs.map((r) => Number(r[n] ?? Number.NaN))));
  const ends = names.map((n, i) =>
    i === 0 ? `${n} ${at[0]!.toFixed(0)}` : `${n} +${(at[i]! - at[i - 1]!).toFixed(0)}`,
  );
  return [...ends, ...notes.map((k) => `${k}: ${[...new Set(runs.map((r) => r[k]))].join('/')}`)].join(', ');
}

function outcome(name: string, baseline: HyperfineResult, subject: HyperfineResult, target: number): Outcome {
  return { name, baseline, subject, ratio: subject.median / baseline.median, target };
}

const benches: Record<string, () => Promise<Outcome>> = { version: versionBench, layout: () => layoutBench() };
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(benches);
const outcomes: Outcome[] = [];
for (const name of chosen) {
  const bench = benches[name];
  if (!bench) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(benches).join(', ')}`);
  const result = await bench();
  outcomes.push(result);
  const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  console.log(
    `${result.name}\n  baseline ${ms(result.baseline.median)} (median), imgbased ${ms(result.subject.median)}: ratio ${result.ratio.toFixed(2)}× (target ≤ ${result.target}×) ${result.ratio <= result.target ? 'met' : 'NOT met'}`,
  );
  for (const note of result.notes ?? []) console.log(`  ${note}`);
}
await mkdir(resultsDir, { recursive: true });
await writeFile(
  path.join(resultsDir, `bench-${new Date().toISOString().replaceAll(':', '-')}.json`),
  `${JSON.stringify(outcomes, null, 2)}\n`,
);

// The daemon's benchmark, in the VM (the daemon needs real LVM thin): a read through the daemon against
// the same read with `imgbase --json` in the same run (the CLI is the baseline: the daemon should win,
// it has no process to start), then 100 concurrent reads: p50/p99 latency and throughput.
//   node test-e2e/bin/run-ts.mjs bench/daemon.ts [LAYERS]
// BENCH_BASELINE_DAEMON=/path/to/other/checkout/apps/daemon/bin/imgbased also runs the load against that
// build, alternating with this one in the same VM (before/after under the same load: the shared host's
// load moves the absolute numbers by several times between runs).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildThinpHostDisk, makeScratchDir, repoRoot, runInVm } from '../test-e2e/src/index.ts';

interface HyperfineResult {
  command: string;
  mean: number;
  median: number;
  stddev: number;
  min: number;
  max: number;
}

interface LoadResult {
  concurrency: number;
  rounds: { p50: number; p99: number; max: number; wallMs: number; failures: number }[];
  singleInProcessMs: number;
  /** p50 of sequential reads, each right after a VG change made outside the daemon (nothing cached serves it). */
  singleAfterChangeMs: number;
}

const layers = Number(process.argv[2] ?? 20);
const baselineDaemon = process.env.BENCH_BASELINE_DAEMON;
const imgbase = path.join(repoRoot, 'apps/cli/bin/imgbase');
const daemon = path.join(repoRoot, 'apps/daemon/bin/imgbased');
const socket = '/run/imgbased/imgbased.sock';
const resultsDir = path.join(repoRoot, 'bench/results');

/** Runs inside the guest: N concurrent GETs over the socket, a few rounds, and sequential single reads. */
const loadScript = `
import { request } from 'node:http';
import { execFileSync } from 'node:child_process';
const [socketPath, url, concurrency] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const get = () => new Promise((resolve) => {
  const started = process.hrtime.bigint();
  const req = request({ socketPath, path: url, headers: { host: 'localhost' } }, (res) => {
    res.resume();
    res.on('end', () => resolve({ ok: res.statusCode === 200, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
  });
  req.on('error', () => resolve({ ok: false, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
  req.end();
});
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const rounds = [];
for (let round = 0; round < 4; round++) {
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: concurrency }, get));
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  rounds.push({ p50: pct(ms, 50), p99: pct(ms, 99), max: ms.at(-1), wallMs: Date.now() - started, failures: results.filter((r) => !r.ok).length });
}
const single = [];
for (let i = 0; i < 30; i++) single.push((await get()).ms);
single.sort((a, b) => a - b);
// A read right after a change made outside the daemon (a VG tag, which bumps the VG's seqno): no answer
// kept from before may serve it, so this is the cost of a read that has to go to LVM.
const cold = [];
for (let i = 0; i < 10; i++) {
  execFileSync('lvm', ['vgchange', '-qq', i % 2 ? '--deltag' : '--addtag', 'bench_cold', 'onn']);
  cold.push((await get()).ms);
}
cold.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ concurrency, rounds: rounds.slice(1), singleInProcessMs: pct(single, 50), singleAfterChangeMs: pct(cold, 50) }));
`;

const dir = await makeScratchDir('bench-daemon');
const host = await buildThinpHostDisk(path.join(dir, 'host.img'));
await writeFile(path.join(dir, 'load.mjs'), loadScript);
const script = [
  'set -e',
  'lvm vgchange -ay onn >/dev/null',
  `${imgbase} layout --init Base-1-0 --from onn/root >/dev/null`,
  `for i in $(seq 2 ${layers}); do lvm lvcreate -qq --snapshot --addtag imgbased:layer -n "Base-1-0+$i" onn/Base-1-0 >/dev/null 2>&1; done`,
  `start() { node "$1" --socket ${socket} </dev/null >>/tmp/daemon.log 2>&1 & DAEMON=$!; for i in $(seq 300); do curl -sf --unix-socket ${socket} http://localhost/v1/layout/bases >/dev/null && break; sleep 0.1; done; }`,
  'stop() { kill $DAEMON; wait $DAEMON || true; }',
  `start ${daemon}`,
  // The same answer, first: the benchmark compares equal work.
  `curl -s --unix-socket ${socket} http://localhost/v1/layout > /tmp/daemon.json`,
  `${imgbase} layout --json > /tmp/cli.json`,
  'cmp /tmp/daemon.json /tmp/cli.json >&2',
  `hyperfine -N --warmup 3 --runs 20 --style none --export-json /tmp/single.json '${imgbase} layout --json' 'curl -s --unix-socket ${socket} http://localhost/v1/layout' 'lvm lvs --reportformat json onn' 'lvm vgs --noheadings -o vg_name,vg_seq_no' 'lvm lvs --noheadings -o vg_name,vg_seqno,lv_name,data_percent,metadata_percent -S segtype=thin-pool' >&2`,
  `node ${path.join(dir, 'load.mjs')} ${socket} /v1/layout 100 > /tmp/load.json`,
  ...(baselineDaemon
    ? [
        'stop',
        ': > /tmp/ab.jsonl',
        `for round in 1 2; do for which in baseline current; do if [ $which = baseline ] ; then start ${baselineDaemon}; else start ${daemon}; fi; printf '{"daemon":"%s","load":' $which >> /tmp/ab.jsonl; node ${path.join(dir, 'load.mjs')} ${socket} /v1/layout 100 >> /tmp/ab.jsonl; echo '}' >> /tmp/ab.jsonl; stop; done; done`,
      ]
    : []),
  'cat /tmp/single.json; echo; echo =====; cat /tmp/load.json',
  ...(baselineDaemon ? ['echo; echo =====; cat /tmp/ab.jsonl'] : []),
].join('\n');
const run = await runInVm({ command: ['sh', '-c', script], disks: [{ path: host.path }], timeoutMs: 900_000 });
if (run.exitCode !== 0) throw new Error(`daemon benchmark failed in the VM:\n${run.stderr}\n${run.consoleTail}`);
const [singleJson, loadJson, abJson] = run.stdout.split('\n=====\n');
const [cli, viaDaemon, lvs, vgs, probe] = (JSON.parse(singleJson!) as { results: HyperfineResult[] }).results;
const load = JSON.parse(loadJson!) as LoadResult;
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
const ratio = viaDaemon!.median / cli!.median;
const best = load.rounds.reduce((a, b) => (a.p50 <= b.p50 ? a : b));
const worst = load.rounds.reduce((a, b) => (a.p99 >= b.p99 ? a : b));
const p99Ratio = worst.p99 / load.singleInProcessMs;
const lines = [
  `one read (layout, ${layers} layers, in the VM): imgbase layout --json ${ms(cli!.median)} (baseline, median), curl to the daemon ${ms(viaDaemon!.median)}: ratio ${ratio.toFixed(2)}× (target < 1×) ${ratio < 1 ? 'met' : 'NOT met'}`,
  `  the daemon's share without curl's own start (in-process client, sequential): ${load.singleInProcessMs.toFixed(1)} ms; one bare lvs: ${ms(lvs!.median)}, one vgs: ${ms(vgs!.median)}, the read cache's lvs of the pools: ${ms(probe!.median)}`,
  `  a read right after a change made outside the daemon (sequential, p50): ${load.singleAfterChangeMs.toFixed(1)} ms`,
  `${load.concurrency} concurrent reads of /v1/layout (best of ${load.rounds.length} rounds): p50 ${best.p50.toFixed(1)} ms, p99 ${best.p99.toFixed(1)} ms, all done in ${best.wallMs} ms (${((load.concurrency / best.wallMs) * 1000).toFixed(0)} reads/s), failures ${best.failures}`,
  `  worst p99 of the rounds ${worst.p99.toFixed(1)} ms = ${p99Ratio.toFixed(2)}× the single read's p50 (target ≤ 2×) ${p99Ratio <= 2 ? 'met' : 'NOT met'}`,
  ...load.rounds.map(
    (r, i) =>
      `  round ${i + 1}: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, wall ${r.wallMs} ms, failures ${r.failures}`,
  ),
];
const ab = (abJson ?? '')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line) as { daemon: 'baseline' | 'current'; load: LoadResult });
for (const { daemon: which, load: l } of ab) {
  const p99 = Math.max(...l.rounds.map((r) => r.p99));
  const p50 = Math.min(...l.rounds.map((r) => r.p50));
  lines.push(
    `${which.padEnd(8)} (same VM, alternating): single p50 ${l.singleInProcessMs.toFixed(1)} ms, after an outside change ${l.singleAfterChangeMs.toFixed(1)} ms; 100 concurrent: p50 ${p50.toFixed(1)} ms, worst p99 ${p99.toFixed(1)} ms = ${(p99 / l.singleInProcessMs).toFixed(2)}× single`,
  );
}
console.log(lines.join('\n'));
await mkdir(resultsDir, { recursive: true });
await writeFile(
  path.join(resultsDir, `daemon-${new Date().toISOString().replaceAll(':', '-')}.json`),
  `${JSON.stringify({ layers, cli, viaDaemon, lvs, vgs, probe, ratio, p99Ratio, load, ab }, null, 2)}\n`,
);

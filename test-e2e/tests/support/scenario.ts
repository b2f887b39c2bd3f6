// Runs a scenario, a list of commands, inside one VM boot on a fresh copy of the thinp host
// fixture, and hands back every step's exit code and output. Outcomes are then checked against
// what the real tools (lvs, blkid, findmnt) printed inside the VM, never against imgbased's own view.
import path from 'node:path';
import { expect } from 'vitest';
import { buildThinpHostDisk, makeScratchDir, repoRoot, runInVm, type VmDisk } from '../../src/index.ts';

export interface Step {
  argv: string[];
  env?: Record<string, string>;
  killAfterMs?: number;
  stopOnFailure?: boolean;
}

export interface StepResult {
  argv: string[];
  exitCode: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export const IMGBASE = 'imgbase';
const runSteps = path.join(repoRoot, 'test-e2e/guest-bin/run-steps.mjs');

/** The fields of `lvs` the checks read, as the real lvm prints them. */
export const LVS: string[] = [
  'lvm',
  'lvs',
  '--reportformat',
  'json',
  '-o',
  'lv_name,lv_attr,lv_tags,origin,pool_lv,vg_tags,lv_size',
  '--units',
  'b',
  '--nosuffix',
  'onn',
];

export interface LvsRow {
  lv_name: string;
  lv_attr: string;
  lv_tags: string;
  origin: string;
  pool_lv: string;
  vg_tags: string;
  lv_size: string;
}

export function parseLvs(result: StepResult): LvsRow[] {
  expect(result.exitCode, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { report: { lv: LvsRow[] }[] }).report[0]!.lv;
}

export function row(rows: LvsRow[], name: string): LvsRow {
  const found = rows.find((r) => r.lv_name === name);
  expect(found, `${name} in lvs`).toBeDefined();
  return found!;
}

/** A shell snippet step; for test plumbing only (shims, chroots), never for what is under test. */
export function sh(script: string, env?: Record<string, string>): Step {
  return { argv: ['sh', '-c', script], ...(env ? { env } : {}) };
}

export interface Scenario {
  results: StepResult[];
  /** The result of the step whose argv contains every one of these words, in order. */
  step(index: number): StepResult;
}

/** Boots once with a fresh thinp host disk (the VG activated first) and runs the steps. */
export async function runScenario(
  steps: (Step | string[])[],
  options: { extraDisks?: VmDisk[]; timeoutMs?: number } = {},
): Promise<Scenario> {
  const dir = await makeScratchDir('scenario');
  const disk = await buildThinpHostDisk(path.join(dir, 'host.img'));
  const all: Step[] = [
    { argv: ['lvm', 'vgchange', '-ay', 'onn'] },
    ...steps.map((s) => (Array.isArray(s) ? { argv: s } : s)),
  ];
  const run = await runInVm({
    command: ['node', runSteps, JSON.stringify(all)],
    disks: [{ path: disk.path }, ...(options.extraDisks ?? [])],
    timeoutMs: options.timeoutMs ?? 300_000,
  });
  expect(run.exitCode, `${run.stderr}\n${run.consoleTail}`).toBe(0);
  const results = JSON.parse(run.stdout) as StepResult[];
  expect(results[0]!.exitCode, results[0]!.stderr).toBe(0);
  const mine = results.slice(1);
  return { results: mine, step: (index) => mine[index]! };
}

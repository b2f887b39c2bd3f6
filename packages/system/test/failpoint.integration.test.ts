import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILPOINT_GATE } from '../src/failpoint.js';

// The real thing: a process running boot file steps and commands kills itself at the armed step.
// Needs root (the gate file is in /run); the gate is made for this test and removed after it.
const work = mkdtempSync(join(tmpdir(), 'failpoint-it-'));
const script = join(work, 'steps.mjs');
let madeGate = false;

beforeAll(() => {
  buildSync({
    stdin: {
      contents: `
        import 'reflect-metadata';
        import { nodeBootFileOps as ops, ExecaCommandRunner } from './packages/system/src/index.ts';
        const dir = process.argv[2];
        await ops.mkdir(dir + '/d');
        await ops.writeNew(dir + '/d/a', 'A');
        await new ExecaCommandRunner().run({ argv: ['touch', dir + '/t'], mutates: true });
        await ops.rename(dir + '/d/a', dir + '/d/b');
        await ops.syncDirectory(dir + '/d');
        process.stdout.write('finished');`,
      resolveDir: join(import.meta.dirname, '../../..'),
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: script,
    conditions: ['@imgbased/source'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  if (!existsSync(FAILPOINT_GATE)) {
    writeFileSync(FAILPOINT_GATE, '');
    madeGate = true;
  }
});
afterAll(() => {
  if (madeGate) rmSync(FAILPOINT_GATE);
  rmSync(work, { recursive: true, force: true });
});

function run(env: Record<string, string>, dir: string) {
  return spawnSync(process.execPath, [script, dir], { env: { ...process.env, ...env }, encoding: 'utf8' });
}

describe('fail points, armed', () => {
  it('trace every changing step, and SIGKILL the process right after the chosen one', () => {
    const traced = mkdtempSync(join(work, 'trace-'));
    const trace = join(traced, 'steps.tsv');
    const full = run({ IMGBASED_FAILPOINT_TRACE: trace }, traced);
    expect(full.stdout, full.stderr).toBe('finished');
    expect(
      readFileSync(trace, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[1]),
    ).toEqual(['boot.mkdir', 'boot.writeNew', 'run.touch', 'boot.rename', 'boot.syncDirectory']);

    const killed = mkdtempSync(join(work, 'kill-'));
    const byNumber = run({ IMGBASED_FAILPOINT: '*:3' }, killed);
    expect(byNumber.signal).toBe('SIGKILL');
    expect(existsSync(join(killed, 't'))).toBe(true);
    expect(existsSync(join(killed, 'd/a'))).toBe(true);

    const byName = mkdtempSync(join(work, 'name-'));
    expect(run({ IMGBASED_FAILPOINT: 'boot.rename:1' }, byName).signal).toBe('SIGKILL');
    expect(existsSync(join(byName, 'd/b'))).toBe(true);
  });

  it('do nothing without the gate file, whatever the environment says', () => {
    if (!madeGate) return; // a gate made by someone else stays
    rmSync(FAILPOINT_GATE);
    try {
      const dir = mkdtempSync(join(work, 'closed-'));
      const result = run({ IMGBASED_FAILPOINT: '*:1' }, dir);
      expect(result.signal).toBeNull();
      expect(result.stdout).toBe('finished');
    } finally {
      writeFileSync(FAILPOINT_GATE, '');
    }
  });
});

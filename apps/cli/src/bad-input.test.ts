// Issue 14's "Bad input, counted", CLI arguments: every case answers a typed error with its exit code
// and changes nothing on the in-memory host (volumes, boot entries and files, mounts, files in layers).
import { adminHost, runFromLayer } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { BAD_CLI_CASES, type BadCliCase } from './bad-input.corpus.js';
import { BAD_KERNEL_ARGS } from './bad-kernel-args.corpus.js';
import { runCli } from './cli.js';

async function runCase(c: BadCliCase) {
  const host = await adminHost();
  runFromLayer(host, 'Base-1-0+2');
  const before = host.snapshot();
  let stdout = '';
  let stderr = '';
  const exit = await runCli([...c.argv, '--json'], {
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isRoot: !c.notRoot },
    version: '9.9.9',
    createEngine: async () => host.engine(),
  });
  const code = stdout === '' ? undefined : (JSON.parse(stdout) as { error?: { code: string } }).error?.code;
  return { exit, code, stderr, changed: host.snapshot() !== before };
}

function label(c: BadCliCase): string {
  return JSON.stringify(c.argv).slice(0, 120);
}

describe.each([
  ['cli-arguments', BAD_CLI_CASES],
  ['kernel-arguments', BAD_KERNEL_ARGS],
] as const)('bad input: %s', (kind, cases) => {
  it(`answers each of its ${cases.length} cases with a typed error and its exit code, and changes nothing`, async () => {
    const wrong = [];
    for (const c of cases) {
      const r = await runCase(c);
      const got = { exit: r.exit, code: r.code, changed: r.changed };
      const want = { exit: c.exit, code: c.code, changed: false };
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push({ argv: label(c), got, want, stderr: r.stderr });
    }
    expect(wrong).toEqual([]);
    console.log(`bad input: ${kind}: ${cases.length} cases`);
  });
});

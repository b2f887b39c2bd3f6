// Runs inside the test VM: executes a list of steps (argv arrays, never a shell) one after the
// other and prints one JSON document with each step's exit code, stdout and stderr, so that the
// test on the host can assert on every step of a scenario booted once.
// Usage: node run-steps.mjs STEPS.json   (or the JSON as the only argument)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const aliases = { imgbase: join(repo, 'apps/cli/bin/imgbase') };
const source = process.argv[2] ?? '[]';
const steps = JSON.parse(existsSync(source) ? readFileSync(source, 'utf8') : source);

const results = [];
for (const step of steps) {
  // killAfterMs: SIGKILL the step after that long, as a crash or an impatient admin would.
  const { argv, stopOnFailure = false, env = {}, killAfterMs } = Array.isArray(step) ? { argv: step } : step;
  const [program, ...args] = argv;
  const started = Date.now();
  const run = spawnSync(aliases[program] ?? program, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
    ...(killAfterMs === undefined ? {} : { timeout: killAfterMs, killSignal: 'SIGKILL' }),
  });
  results.push({
    argv,
    exitCode: run.status ?? (run.signal ? 128 : 127),
    signal: run.signal ?? null,
    stdout: run.stdout ?? '',
    stderr: (run.stderr ?? '') + (run.error ? String(run.error) : ''),
    durationMs: Date.now() - started,
  });
  if (stopOnFailure && run.status !== 0) break;
}
process.stdout.write(`${JSON.stringify(results)}\n`);

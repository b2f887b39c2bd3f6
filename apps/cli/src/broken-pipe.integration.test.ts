// `imgbase … | head -1`: the reader goes away before imgbase has written everything. The built CLI (the
// bundle bin/imgbase runs: `pnpm build` first) must then stay quiet, with no stack trace.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/imgbase');
const bundle = path.resolve(path.dirname(bin), '../dist/entry.js');

/** Runs the CLI with its stdout's reading end closed at once; gives its exit code and stderr. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('imgbase writing into a closed pipe', () => {
  it('is built (pnpm build)', () => {
    expect(existsSync(bundle), `${bundle}: run pnpm build first`).toBe(true);
  });

  it.each([[['--help']], [['--version']], [['layout', '--help']]])('%j exits 0, quietly', async (args) => {
    const { code, stderr } = await withClosedStdout(args);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

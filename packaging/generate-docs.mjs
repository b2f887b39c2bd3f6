#!/usr/bin/env node
// Bundles generate-docs.ts from the workspace's sources (Node 20 runs no TypeScript) and runs it:
//   node packaging/generate-docs.mjs [DIR]    (default: packaging/generated, the checked-in copy)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Generates the documentation into `target`. */
export async function generateDocs(target = path.join(here, 'generated')) {
  const work = mkdtempSync(path.join(tmpdir(), 'imgbased-docs-'));
  try {
    const bundle = path.join(work, 'generate-docs.mjs');
    await build({
      absWorkingDir: path.join(here, '../apps/cli'),
      entryPoints: [path.join(here, 'generate-docs.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20.19',
      conditions: ['@imgbased/source'],
      tsconfig: path.join(here, '../apps/cli/tsconfig.json'),
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: 'warning',
    });
    execFileSync(process.execPath, [bundle, path.resolve(target)], { stdio: 'inherit' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await generateDocs(process.argv[2]);

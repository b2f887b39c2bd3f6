#!/usr/bin/env node
// Runs a TypeScript entry of the test harness (the demo, the benchmarks) on Node 20, which cannot
// run TypeScript itself: bundles it with esbuild into test-e2e/.work/build, keyed by a hash of the
// entry's inputs, then imports the bundle. Packages stay external and resolve from the repo.
// Usage: node test-e2e/bin/run-ts.mjs FILE.ts [ARGS...]
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const e2eDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entryArg, ...args] = process.argv.slice(2);
if (!entryArg) {
  process.stderr.write('usage: run-ts.mjs FILE.ts [ARGS...]\n');
  process.exit(2);
}
const entry = path.resolve(entryArg);
const { build } = await import('esbuild');

// Bundle to memory first to learn the inputs, so the cache key covers every imported source file.
const probe = await build({
  entryPoints: [entry],
  bundle: true,
  write: false,
  metafile: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'error',
});
const hash = createHash('sha256');
for (const input of Object.keys(probe.metafile.inputs).sort()) hash.update(input).update(await readFile(input));
const buildDir = path.join(e2eDir, '.work', 'build');
const bundle = path.join(buildDir, `${path.basename(entry, '.ts')}-${hash.digest('hex').slice(0, 16)}.mjs`);
if (!existsSync(bundle)) {
  await mkdir(buildDir, { recursive: true });
  const temp = `${bundle}.tmp-${process.pid}.mjs`;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(temp, probe.outputFiles[0].contents);
  await rename(temp, bundle);
}
process.argv = [process.argv[0], bundle, ...args];
await import(pathToFileURL(bundle).href);

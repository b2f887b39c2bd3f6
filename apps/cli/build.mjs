// Bundles the CLI into dist/ with esbuild, straight from the workspace packages' sources: one file to
// load (plus a lazily loaded chunk) starts faster than hundreds of modules, which matters for a tool
// scripts call in loops. Type checking is `tsc --noEmit` (turbo's typecheck task), not this step.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Paths below are relative to this package, wherever the build is started from.
const here = dirname(fileURLToPath(import.meta.url));
process.chdir(here);

rmSync('dist', { recursive: true, force: true });

await build({
  absWorkingDir: here,
  entryPoints: { entry: 'src/entry.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  conditions: ['@imgbased/source'],
  sourcemap: true,
  minify: true,
  keepNames: true,
  tsconfig: 'tsconfig.json',
  // Some dependencies are CommonJS and call require(): give the ESM bundle one.
  banner: {
    js: "import { createRequire as __imgbasedRequire } from 'node:module'; const require = __imgbasedRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// Bundles the daemon into dist/ with esbuild, straight from the workspace packages' sources, exactly as
// apps/cli/build.mjs bundles the CLI: one file to load, no workspace resolution at run time.
// Type checking is `tsc --noEmit` (turbo's typecheck task), not this step.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildPeercred } from './build-native.mjs';

// Works from any directory (`node apps/daemon/build.mjs` from the repository's root, or `pnpm build`).
const here = dirname(fileURLToPath(import.meta.url));
rmSync(`${here}/dist`, { recursive: true, force: true });

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

// The peer-credentials addon, loaded by the bundle from beside it (dist/peercred.node).
buildPeercred({ force: true });

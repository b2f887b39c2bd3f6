// Bundles the CLI into dist/ with esbuild, straight from the workspace packages' sources: one file to
// load starts faster than hundreds of modules, which matters for a tool scripts call in loops.
// Type checking is `tsc --noEmit` (turbo's typecheck task), not this step.
//   dist/entry.cjs      the binary's entry: answers --version alone, else loads main.cjs (CommonJS:
//                       Node's ES module loader is never started unless a plugin module is imported)
//   dist/code-cache.cjs what loads main.cjs with its code cache (not loaded for --version)
//   dist/entry.js       the entry as an ES module, for launchers that import it
//   dist/main.cjs       the CLI (CommonJS, so that it can be compiled through vm.Script with a code cache)
//   dist/main.cjs.cache V8's code cache of main.cjs, written by one warm-up run of the built CLI
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Paths below are relative to this package, wherever the build is started from.
const here = dirname(fileURLToPath(import.meta.url));
process.chdir(here);

// Built beside dist/ and swapped in at the end: a bin/imgbase started meanwhile (tests running in
// parallel) finds either the old build or the new one, not a half-written one.
const next = 'dist.next';
rmSync(next, { recursive: true, force: true });

const common = {
  absWorkingDir: here,
  outdir: next,
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  conditions: ['@imgbased/source'],
  sourcemap: true,
  minify: true,
  keepNames: true,
  tsconfig: 'tsconfig.json',
  logLevel: 'warning',
};

try {
  await build({
    ...common,
    entryPoints: { entry: 'src/entry.ts', 'code-cache': 'src/code-cache.ts' },
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    // The entry requires code-cache.cjs beside it, and only when it loads the bundle.
    external: ['./code-cache.cjs'],
    // Nothing here needs its class names kept.
    keepNames: false,
  });
  writeFileSync(
    join(next, 'entry.js'),
    "// The entry as an ES module, for launchers that import it: it is entry.cjs.\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./entry.cjs');\n",
  );

  await build({
    ...common,
    entryPoints: { main: 'src/main.ts' },
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
  });

  // The warm-up: `layout --json` with a PATH whose `lvm` prints a small report (lvm-thin's fields: a
  // group, its pool, a base and a layer) runs what most verbs run: option parsing, configuration, the
  // container, one command through execa, parsing, the layout, a JSON answer. Were the report not
  // understood, the run would end in an error and its cache would only be colder.
  const fields =
    'lv_name,vg_name,lv_path,lv_size,lv_attr,lv_tags,vg_tags,vg_size,vg_free,origin,pool_lv,segtype,data_percent,metadata_percent,lv_metadata_size,lv_kernel_major,lv_kernel_minor';
  // biome-ignore format: one lvs row per line
  const rows = [
    ['pool00', 'vg', '', '4294967296', 'twi-aotz--', 'imgbased:pool', 'imgbased:vg', '8589934592', '1073741824', '', '', 'thin-pool', '1.00', '2.00', '4194304', '253', '2'],
    ['Base-1-0', 'vg', '/dev/vg/Base-1-0', '1073741824', 'Vri---tz-k', 'imgbased:base', 'imgbased:vg', '8589934592', '1073741824', '', 'pool00', 'thin', '', '', '', '-1', '-1'],
    ['Base-1-0+1', 'vg', '/dev/vg/Base-1-0+1', '1073741824', 'Vwi-a-tz--', 'imgbased:layer', 'imgbased:vg', '8589934592', '1073741824', 'Base-1-0', 'pool00', 'thin', '1.00', '', '', '253', '3'],
  ];
  const names = fields.split(',');
  const report = { report: [{ lv: rows.map((row) => Object.fromEntries(names.map((name, i) => [name, row[i]]))) }] };
  const stubs = mkdtempSync(join(tmpdir(), 'imgbased-cli-build-'));
  try {
    writeFileSync(join(stubs, 'report.json'), JSON.stringify(report));
    writeFileSync(join(stubs, 'lvm'), `#!/bin/sh\nexec cat '${join(stubs, 'report.json')}'\n`, { mode: 0o755 });
    try {
      execFileSync(process.execPath, [join(next, 'entry.cjs'), 'layout', '--json'], {
        env: { PATH: `${stubs}:/usr/bin:/bin`, IMGBASED_WRITE_CODE_CACHE: '1', LANG: 'C.UTF-8' },
        stdio: 'ignore',
      });
    } catch (error) {
      if (error.status === undefined || error.status === null) throw error;
    }
  } finally {
    rmSync(stubs, { recursive: true, force: true });
  }
  if (!existsSync(join(next, 'main.cjs.cache'))) throw new Error('the warm-up run wrote no code cache');

  rmSync('dist.old', { recursive: true, force: true });
  try {
    renameSync('dist', 'dist.old');
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  renameSync(next, 'dist');
  rmSync('dist.old', { recursive: true, force: true });
} finally {
  rmSync(next, { recursive: true, force: true }); // left only by a failed build
}

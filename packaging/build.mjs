#!/usr/bin/env node
// `pnpm package`: the .deb and the RPM of imgbased (CLI, daemon, the shipped plugins) from the built
// bundles (run `pnpm build` first; the root script does). Output: packaging/out/.
//   node packaging/build.mjs [--deb-only | --rpm-only] [--out DIR] [--check]
// --check runs lintian and rpmlint on the results (their remaining warnings: packaging/README.md).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDocs } from './generate-docs.mjs';
import { buildDeb } from './lib/deb.mjs';
import { stageTree } from './lib/layout.mjs';
import { packageVersion, repoRoot } from './lib/metadata.mjs';
import { buildRpm } from './lib/rpm.mjs';

/** The last commit's time: packages built from the same commit are the same, byte for byte where the tools allow. */
function sourceDateEpoch() {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: not a turbo task; the reproducible-builds convention
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync('git', ['-C', repoRoot, 'log', '-1', '--format=%ct'], { encoding: 'utf8' }).trim());
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}

/** A native addon makes the package architecture-specific (the daemon's peercred.node). */
function hasNativeCode() {
  const dist = path.join(repoRoot, 'apps/daemon/dist');
  return existsSync(dist) && readdirSync(dist).some((name) => name.endsWith('.node'));
}

/**
 * Builds the packages; returns their paths and installed file lists.
 * `formats`: which of 'deb' and 'rpm'; `out`: the output directory.
 */
export async function buildPackages({ formats = ['deb', 'rpm'], out = path.join(repoRoot, 'packaging/out') } = {}) {
  const version = packageVersion();
  const epochSeconds = sourceDateEpoch();
  const native = hasNativeCode();
  const work = mkdtempSync(path.join(tmpdir(), 'imgbased-package-'));
  const results = {};
  try {
    const docs = path.join(work, 'docs');
    await generateDocs(docs);
    if (formats.includes('deb')) {
      const stage = path.join(work, 'deb');
      const architecture = native ? execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim() : 'all';
      const installed = stageTree(stage, 'deb', docs);
      results.deb = buildDeb({ stage, installed, version, architecture, out, epochSeconds });
    }
    if (formats.includes('rpm')) {
      const stage = path.join(work, 'rpm');
      const installed = stageTree(stage, 'rpm', docs);
      const architecture = native ? execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim() : 'noarch';
      results.rpm = { ...buildRpm({ stage, installed, version, architecture, out, epochSeconds }), installed };
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

/** lintian and rpmlint (rpmlint with the justified filters of packaging/lint/rpmlint.toml). */
export function checkPackages(results) {
  const lint = path.join(repoRoot, 'packaging/lint');
  if (results.deb) {
    // Clean of errors and warnings; the remaining infos are justified in packaging/README.md.
    execFileSync('lintian', ['--fail-on', 'error,warning', results.deb.path], { stdio: 'inherit' });
  }
  if (results.rpm) {
    execFileSync('rpmlint', ['--strict', '--config', path.join(lint, 'rpmlint.toml'), results.rpm.path], {
      stdio: 'inherit',
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const formats = args.includes('--deb-only') ? ['deb'] : args.includes('--rpm-only') ? ['rpm'] : ['deb', 'rpm'];
  const results = await buildPackages({
    formats,
    ...(outIndex >= 0 ? { out: path.resolve(args[outIndex + 1]) } : {}),
  });
  for (const { path: file } of Object.values(results)) process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
  if (args.includes('--check')) checkPackages(results);
}

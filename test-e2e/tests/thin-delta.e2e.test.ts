// tar-diff's thin_delta path on real LVM thin, against the whole-tree comparison it replaces: on random
// change sets of every kind (content, metadata only, xattrs, renames of files and directories, hard
// links, deletions, new directories, identical-content rewrites, symlinks), the carry-over given the
// volumes plans exactly what the one comparing the whole trees plans. One VM boot
// (tests/support/delta-guest.ts, bundled from the sources here).
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, repoRoot, runInVm } from '../src/index.ts';

interface Summary {
  copied: string[];
  deleted: string[];
  merged: string[];
  conflicts: string[];
  keptFromNewBase: string[];
}
interface Round {
  ops: Record<string, number>;
  full: Summary;
  delta: Summary;
  walk: string[];
}

let result: { rounds: Round[]; fallback: string[] } | undefined;
let failure: string | undefined;
let scratch: string;

beforeAll(async () => {
  scratch = await makeScratchDir('thin-delta');
  const bundle = path.join(scratch, 'delta-guest.mjs');
  await build({
    entryPoints: [path.join(repoRoot, 'test-e2e/tests/support/delta-guest.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@imgbased/source'],
    // The plugin from its sources, and the packages it depends on as it finds them.
    alias: { '@imgbased/persistence-tar-diff': path.join(repoRoot, 'plugins/persistence-tar-diff/src/index.ts') },
    nodePaths: [path.join(repoRoot, 'plugins/persistence-tar-diff/node_modules')],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  const run = await runInVm({
    command: ['node', bundle, '/dev/vda', '4'],
    disks: [{ path: path.join(scratch, 'disk.img'), sizeBytes: 1024 ** 3 }],
    timeoutMs: 240_000,
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('@@RESULT@@'));
  if (run.exitCode !== 0 || line === undefined) {
    failure = `exit ${run.exitCode}\n${run.stdout}\n${run.stderr}\n${run.consoleTail}`;
    return;
  }
  result = JSON.parse(line.slice('@@RESULT@@'.length));
}, 300_000);

afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('tar-diff with thin_delta, on real LVM thin', () => {
  it('ran in the VM', () => {
    expect(failure).toBeUndefined();
    expect(result?.rounds).toHaveLength(4);
  });

  it('asked the pool each round, and listed far fewer paths than the trees hold', () => {
    for (const round of result!.rounds) {
      expect(round.walk.join('\n')).toMatch(/^Listing \d+ paths of \d+ changed inodes in three trees \(thin_delta\)$/m);
      const listed = Number(/Listing (\d+) paths/.exec(round.walk.join('\n'))![1]);
      expect(listed).toBeLessThan(1000); // of ~1,300 entries
    }
  });

  it('plans exactly what the whole trees plan: copied, deleted, merged, conflicts', () => {
    for (const [i, round] of result!.rounds.entries()) {
      const { keptFromNewBase: _fullKept, ...full } = round.full;
      const { keptFromNewBase: _deltaKept, ...delta } = round.delta;
      expect(delta, `round ${i + 1} (${JSON.stringify(round.ops)})`).toEqual(full);
      // Something of every kind was changed and found.
      expect(Object.keys(round.ops).length).toBeGreaterThanOrEqual(14);
      expect(full.copied.length + full.deleted.length).toBeGreaterThan(40);
    }
  });

  it('reports of the new base only what it changed where the admin did', () => {
    for (const round of result!.rounds) {
      for (const p of round.delta.keptFromNewBase) expect(round.full.keptFromNewBase).toContain(p);
    }
  });

  it('compares the whole trees when the volumes are in different pools, saying why', () => {
    expect(result!.fallback.join('\n')).toContain(
      'Comparing the whole trees: the old base and the old layer are in different pools',
    );
  });
});

import { lstat, mkdtemp, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import {
  ACCOUNT_FILES,
  CommandRunner,
  conflictPolicyFor,
  emit,
  excludeMatcher,
  isUnder,
  type OperationContext,
  type Persistence,
  type PersistenceConflict,
  PersistenceConflictError,
  type PersistenceOptions,
  type PersistencePolicy,
  type PersistenceReport,
  type PersistenceTrees,
  persistedRoots,
  UnsafePathError,
} from '@imgbased/core';
import { assertRealParents, ensureDirectory, planAccountMerges, writeAccountMerges } from '@imgbased/system';
import { inject, injectable } from 'tsyringe';
import { type Probe, planCarryOver } from './plan.js';
import { readXattrs, sameContent, walkTree } from './tree.js';

/** The name of the manifest member in a delta: the change of every path and the deletion markers. */
export const DELTA_MANIFEST = '.imgbased-delta.json';
/** Where the delta is kept when the options name no path: inside the new layer. */
export const DEFAULT_DELTA_DIRECTORY = '/var/lib/imgbased/persistence';

/**
 * GNU tar options that keep everything: owner and mode (numeric), every xattr byte for byte (the SELinux
 * label is the xattr security.selinux, capabilities are security.capability), ACLs, holes. Not
 * `--selinux`: it rewrites the label through libselinux, which changes its bytes (adds a NUL).
 */
const TAR_KEEP = ['--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '--sparse'];

/**
 * Three-way carry-over: what the admin changed in the old layer relative to the old base is packed
 * in a tar delta (kept as the audit record) and applied onto the new layer where the new base did not
 * change the same path; paths changed on both sides follow the per-path conflict policy.
 */
@injectable()
export class TarDiffPersistence implements Persistence {
  readonly name = 'tar-diff';

  constructor(@inject(CommandRunner) private readonly runner: CommandRunner) {}

  async carryOver(
    trees: PersistenceTrees,
    policy: PersistencePolicy,
    options: PersistenceOptions,
    context?: OperationContext,
  ): Promise<PersistenceReport> {
    const dryRun = options.dryRun || this.runner.dryRun;
    const roots = persistedRoots(policy);
    const excluded = excludeMatcher(policy.excludes);
    for (const root of roots) await assertRealParents(trees.newLayer, root);

    emit(context, { type: 'step', step: 'persistence.walk', message: `Listing ${roots.join(', ')} in three trees` });
    const walk = (dir: string) => walkTree(this.runner, dir, roots, excluded, context);
    const [base, layer, next] = await Promise.all([walk(trees.oldBase), walk(trees.oldLayer), walk(trees.newLayer)]);
    const accounts = ACCOUNT_FILES.filter((f) => roots.some((r) => isUnder(f, r)) && !excluded(f));
    const dirs = { base: trees.oldBase, layer: trees.oldLayer, new: trees.newLayer };
    const probe: Probe = {
      sameContent: (l, r, p) => sameContent(join(dirs[l], p), join(dirs[r], p)),
      xattrs: async (t, paths) => {
        const raw = await readXattrs(
          this.runner,
          paths.map((p) => join(dirs[t], p)),
          context,
        );
        return new Map(paths.map((p) => [p, raw.get(join(dirs[t], p)) ?? '']));
      },
    };
    emit(context, {
      type: 'step',
      step: 'persistence.plan',
      message: 'Comparing the old layer with its base and the new base',
    });
    const plan = await planCarryOver(
      { base, layer, next },
      probe,
      (p) => conflictPolicyFor(policy, p),
      new Set(accounts),
    );

    const accountPlan = await planAccountMerges(trees, policy, accounts);
    const { merges } = accountPlan;
    const conflicts: PersistenceConflict[] = [...plan.conflicts, ...accountPlan.conflicts];
    const failed = conflicts.filter((c) => c.resolution === 'failed');
    if (failed.length > 0) throw new PersistenceConflictError(failed);

    const deltaPath = dryRun ? undefined : await this.deltaPath(trees.newLayer, options.deltaPath);
    const report: PersistenceReport = {
      plugin: this.name,
      dryRun,
      copied: plan.copied,
      merged: merges
        .filter((m) => m.text !== undefined)
        .map((m) => m.file)
        .sort(),
      keptFromNewBase: plan.keptFromNewBase,
      deleted: plan.deleted,
      conflicts,
      ...(deltaPath === undefined ? {} : { delta: deltaPath }),
    };
    if (deltaPath === undefined) return report;

    const work = await mkdtemp(join(tmpdir(), 'imgbased-tar-diff-'));
    try {
      emit(context, {
        type: 'step',
        step: 'persistence.delta',
        message: `Packing ${plan.pack.length} changed paths into ${deltaPath}`,
      });
      const list = (paths: readonly string[]) => paths.map((p) => p.slice(1)).join('\0');
      await writeFile(join(work, 'pack'), list(plan.pack));
      const manifest = {
        format: 'imgbased-tar-diff/1',
        roots,
        excludes: policy.excludes,
        changes: Object.fromEntries(plan.changes),
        deleted: [...plan.changes].filter(([, c]) => c === 'deleted').map(([p]) => p),
      };
      await writeFile(join(work, DELTA_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
      await this.tar(
        [
          '--create',
          '--file',
          deltaPath,
          ...TAR_KEEP,
          '--no-recursion',
          '-C',
          trees.oldLayer,
          '--null',
          '--verbatim-files-from',
          '--files-from',
          join(work, 'pack'),
        ],
        context,
      );
      await this.tar(['--append', '--file', deltaPath, '-C', work, '--', DELTA_MANIFEST], context);

      emit(context, {
        type: 'step',
        step: 'persistence.apply',
        message: `Removing ${plan.remove.length}, extracting ${plan.extract.length} paths`,
      });
      for (const p of plan.remove) {
        await assertRealParents(trees.newLayer, p, false);
        const target = join(trees.newLayer, p);
        const st = await lstat(target).catch(() => undefined);
        if (st === undefined) continue;
        if (st.isDirectory()) await rmdir(target);
        else await unlink(target);
      }
      const extracting = new Set(plan.extract);
      for (const p of plan.extract) await this.assertWritable(trees.newLayer, p, extracting, layer);
      if (plan.extract.length > 0) {
        await writeFile(join(work, 'extract'), list(plan.extract));
        await this.tar(
          [
            '--extract',
            '--file',
            deltaPath,
            ...TAR_KEEP,
            '--same-permissions',
            '--same-owner',
            '--no-recursion',
            '--delay-directory-restore',
            '-C',
            trees.newLayer,
            '--null',
            '--verbatim-files-from',
            '--files-from',
            join(work, 'extract'),
          ],
          context,
        );
      }
      for (const p of plan.save) {
        await assertRealParents(trees.newLayer, p, false);
        await this.runner.run(
          {
            argv: [
              'cp',
              '--archive',
              '--no-dereference',
              '--remove-destination',
              '--no-target-directory',
              '--',
              join(trees.oldLayer, p),
              join(trees.newLayer, `${p}.imgsave`),
            ],
            mutates: true,
          },
          context,
        );
      }
      await writeAccountMerges(trees, merges, context);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return report;
  }

  /** Each existing parent of a path about to be extracted is a real directory, or is extracted as one first. */
  private async assertWritable(
    root: string,
    path: string,
    extracting: ReadonlySet<string>,
    layer: Map<string, { type: string }>,
  ): Promise<void> {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const q = `/${parts.slice(0, i).join('/')}`;
      const st = await lstat(join(root, q)).catch(() => undefined);
      if (st === undefined) {
        if (extracting.has(q) && layer.get(q)?.type !== 'd')
          throw new UnsafePathError(join(root, path), `${q} would not be a directory`);
        continue;
      }
      if (!st.isDirectory())
        throw new UnsafePathError(join(root, path), `${join(root, q)} is not a directory (a symlink?)`);
    }
  }

  private async deltaPath(newLayer: string, requested: string | undefined): Promise<string> {
    const stamp = new Date().toISOString().replaceAll(':', '-');
    if (requested === undefined) {
      await ensureDirectory(newLayer, DEFAULT_DELTA_DIRECTORY);
      return join(newLayer, DEFAULT_DELTA_DIRECTORY, `delta-${stamp}.tar`);
    }
    if (!isAbsolute(requested)) throw new UnsafePathError(requested, 'the delta path must be absolute');
    const inside = relative(newLayer, requested);
    if (!inside.startsWith('..')) await ensureDirectory(newLayer, dirname(`/${inside}`));
    if ((await lstat(requested).catch(() => undefined)) !== undefined)
      throw new UnsafePathError(requested, 'exists already');
    await stat(dirname(requested));
    return requested;
  }

  private async tar(args: string[], context?: OperationContext): Promise<void> {
    await this.runner.run({ argv: ['tar', ...args], mutates: true }, context);
  }
}

import { lstat, mkdtemp, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ACCOUNT_FILES,
  type CommandRunner,
  conflictPolicyFor,
  emit,
  excludeMatcher,
  isUnder,
  type OperationContext,
  type Persistence,
  PersistenceConflictError,
  type PersistenceOptions,
  type PersistencePolicy,
  type PersistenceReport,
  type PersistenceTrees,
  persistedRoots,
  UnsafePathError,
} from '@imgbased/core';
import { assertRealParents, encodePath, nulList, planAccountMerges, writeAccountMerges } from '@imgbased/system';
import { planRsync } from './rsync-plan.js';
import { ancestorsOf, typeAt } from './tree-state.js';

/**
 * How the admin's paths are copied: archive, hard links, ACLs, xattrs, sparse files, numeric ids;
 * `--ignore-times`: every listed file is written (the plan chose them by content, not by mtime);
 * `--no-implied-dirs`: the parents of a listed path keep the new base's owner, mode and labels.
 */
export const RSYNC_COPY = ['-aHAXS', '--numeric-ids', '--ignore-times', '--no-implied-dirs'];

/**
 * Carries the admin's changes with the real rsync, three ways: rsync dry runs find what the admin
 * changed (old layer against old base) and what the new base changed on those paths (old base against
 * new layer); only the admin's changes are written, and nothing the new base changed elsewhere is
 * undone. A path both changed follows the conflict policy. The account databases are merged by name.
 */
export class RsyncPersistence implements Persistence {
  readonly name = 'rsync';

  constructor(private readonly runner: CommandRunner) {}

  async carryOver(
    trees: PersistenceTrees,
    policy: PersistencePolicy,
    options: PersistenceOptions,
    context?: OperationContext,
  ): Promise<PersistenceReport> {
    const dryRun = options.dryRun || context?.dryRun === true;
    const roots = persistedRoots(policy);
    const excluded = excludeMatcher(policy.excludes);
    for (const root of roots) {
      if (root === '/') throw new UnsafePathError(root, 'persisting the whole tree is not supported');
      await assertRealParents(trees.newLayer, root);
      await assertRealParents(trees.oldLayer, root);
    }

    // Plan everything first: a conflict under `fail` must leave the new layer untouched.
    const accounts = ACCOUNT_FILES.filter((f) => roots.some((r) => isUnder(f, r)) && !excluded(f));
    const { merges, conflicts: accountConflicts } = await planAccountMerges(trees, policy, accounts);
    emit(context, { type: 'step', step: 'persistence.plan', message: `Comparing ${roots.join(', ')} in three trees` });
    const plan = await planRsync(
      this.runner,
      trees,
      { roots, excludes: [...policy.excludes, ...accounts] },
      (p) => conflictPolicyFor(policy, p),
      context,
    );
    const conflicts = [...plan.conflicts, ...accountConflicts];
    const failed = conflicts.filter((c) => c.resolution === 'failed');
    if (failed.length > 0) throw new PersistenceConflictError(failed);

    if (!dryRun) {
      const { oldLayer, newLayer } = trees;
      // The admin's deletions first (what the admin deleted inside a directory moved aside goes too),
      // then conflicts kept for the admin: the new base's version is kept beside, as PATH.imgnew.
      await this.remove(newLayer, plan.remove);
      for (const p of plan.keepNew) {
        await assertRealParents(newLayer, p, false);
        await rename(encodePath(join(newLayer, p)), encodePath(join(newLayer, `${p}.imgnew`)));
      }
      // Parents the new layer lacks are copied too (with the admin's owner and mode), never through a link.
      const copy = new Set(plan.copy);
      for (const p of plan.copy)
        for (const q of ancestorsOf(p)) if ((await typeAt(newLayer, q)) === undefined && !excluded(q)) copy.add(q);
      emit(context, {
        type: 'step',
        step: 'persistence.rsync',
        message: `Copying ${copy.size} paths from the old layer`,
      });
      await this.copy(oldLayer, newLayer, [...copy].sort(), context);
      await this.saveCopies(trees, plan.save, plan.unplaced, context);
      await writeAccountMerges(trees, merges, context);
    }
    return {
      plugin: this.name,
      dryRun,
      copied: [...plan.copy],
      merged: merges.map((m) => m.file).sort(),
      keptFromNewBase: [...plan.keptFromNewBase],
      deleted: [...plan.deleted],
      conflicts,
    };
  }

  private async copy(from: string, to: string, paths: readonly string[], context?: OperationContext): Promise<void> {
    if (paths.length === 0) return;
    const dir = (tree: string) => `${tree.replace(/\/+$/, '')}/`;
    await this.runner.run(
      {
        argv: ['rsync', ...RSYNC_COPY, '--files-from=-', '--from0', '--', dir(from), dir(to)],
        input: nulList(paths.map((p) => p.slice(1))),
        mutates: true,
      },
      context,
    );
  }

  /** Removes paths (children first), each after checking that no parent is a symlink (gone with a parent moved aside: done). */
  private async remove(root: string, paths: readonly string[]): Promise<void> {
    for (const p of paths) {
      await assertRealParents(root, p);
      const target = encodePath(join(root, p));
      const st = await lstat(target).catch(() => undefined);
      if (st === undefined) continue;
      if (st.isDirectory()) await rmdir(target);
      else await unlink(target);
    }
  }

  /**
   * The admin's versions the new base's won over: PATH.imgsave beside them, and BLOCKER.imgsave/… for
   * those below a path the new base made a non-directory. Copied by rsync into a staging directory in
   * the new layer (same file system), then renamed into place.
   */
  private async saveCopies(
    trees: PersistenceTrees,
    save: readonly string[],
    unplaced: ReadonlyMap<string, readonly string[]>,
    context?: OperationContext,
  ): Promise<void> {
    const moves = [
      ...save.map((p) => ({ pack: [p], from: p, to: `${p}.imgsave` })),
      ...[...unplaced].map(([blocker, pack]) => ({ pack, from: blocker, to: `${blocker}.imgsave` })),
    ];
    if (moves.length === 0) return;
    const staging = await mkdtemp(join(trees.newLayer, '.imgbased-save-'));
    try {
      await this.copy(trees.oldLayer, staging, [...new Set(moves.flatMap((m) => m.pack))].sort(), context);
      for (const move of moves) {
        await assertRealParents(trees.newLayer, move.to, false);
        await rename(encodePath(join(staging, move.from)), encodePath(join(trees.newLayer, move.to)));
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}

import { lstat, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import {
  ACCOUNT_FILES,
  type CommandRunner,
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
import { applyDelta, DEFAULT_DELTA_DIRECTORY, exportDelta } from './delta.js';
import { listTrees } from './delta-trees.js';
import {
  describeAdmin,
  type EntryState,
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestEntry,
  type Outcome,
  stateOf,
} from './manifest.js';
import { type Probe, planCarryOver } from './plan.js';
import { batchedXattrs, sameContent } from './tree.js';
import { TreeWriter } from './tree-writer.js';

export interface TarDiffOptions {
  /** Directory inside the new layer for the record and staging (`[persistence.tar-diff] delta_dir`). */
  readonly deltaDirectory?: string | undefined;
}

/**
 * Three-way carry-over: what the admin changed in the old layer relative to the old base is streamed
 * from the old layer into the new layer (GNU tar to GNU tar, through a FIFO: the content is written
 * once) where the new base did not change the same path; paths changed on both sides follow the
 * per-path conflict policy. The kept record is a manifest with digests; `exportDelta` packs the tar
 * delta from it, `applyDelta` re-applies an exported delta.
 */
export class TarDiffPersistence implements Persistence {
  readonly name = 'tar-diff';

  private readonly writer: TreeWriter;

  private readonly deltaDirectory: string;

  constructor(
    private readonly runner: CommandRunner,
    options: TarDiffOptions = {},
  ) {
    this.writer = new TreeWriter(runner);
    this.deltaDirectory = options.deltaDirectory ?? DEFAULT_DELTA_DIRECTORY;
  }

  async carryOver(
    trees: PersistenceTrees,
    policy: PersistencePolicy,
    options: PersistenceOptions,
    context?: OperationContext,
  ): Promise<PersistenceReport> {
    const dryRun = options.dryRun || context?.dryRun === true;
    const roots = persistedRoots(policy);
    const excluded = excludeMatcher(policy.excludes);
    for (const root of roots) await assertRealParents(trees.newLayer, root);

    const { base, layer, next: nextListing } = await listTrees(this.runner, trees, roots, excluded, context);
    const accounts = ACCOUNT_FILES.filter((f) => roots.some((r) => isUnder(f, r)) && !excluded(f));
    const dirs = { base: trees.oldBase, layer: trees.oldLayer, new: trees.newLayer };
    // xattrs by host path, read once: the paths the admin may have changed, of all three trees, in one
    // getfattr as soon as they are known (while the new layer is still being listed), the rest on demand.
    const xattrsOf = batchedXattrs(this.runner, context);
    const xattrCache = new Map<string, Promise<Map<string, string>>>();
    const xattrs = async (hostPaths: readonly string[]): Promise<Map<string, string>> => {
      const missing = hostPaths.filter((p) => !xattrCache.has(p));
      if (missing.length > 0) {
        const read = xattrsOf(missing);
        for (const p of missing) xattrCache.set(p, read);
      }
      const out = new Map<string, string>();
      for (const p of hostPaths) out.set(p, (await xattrCache.get(p)!).get(p) ?? '');
      return out;
    };
    const probe: Probe = {
      sameContent: (l, r, p) => sameContent(join(dirs[l], p), join(dirs[r], p)),
      xattrs: async (t, paths) => {
        const raw = await xattrs(paths.map((p) => join(dirs[t], p)));
        return new Map(paths.map((p) => [p, raw.get(join(dirs[t], p)) ?? '']));
      },
      changed: (paths) => {
        // A failure here is the same failure the plan meets when it asks: handled there.
        xattrs(Object.values(dirs).flatMap((d) => paths.map((p) => join(d, p)))).catch(() => undefined);
      },
    };
    emit(context, {
      type: 'step',
      step: 'persistence.plan',
      message: 'Comparing the old layer with its base and the new base',
    });
    const [plan, accountPlan] = await Promise.all([
      planCarryOver({ base, layer, next: nextListing }, probe, (p) => conflictPolicyFor(policy, p), new Set(accounts)),
      planAccountMerges(trees, policy, accounts),
    ]);
    const { merges } = accountPlan;
    const conflicts: PersistenceConflict[] = [...plan.conflicts, ...accountPlan.conflicts];
    const failed = conflicts.filter((c) => c.resolution === 'failed');
    if (failed.length > 0) throw new PersistenceConflictError(failed);

    const recordPath = dryRun ? undefined : await this.recordPath(trees.newLayer, options.deltaPath);
    const merged = merges
      .filter((m) => m.text !== undefined)
      .map((m) => m.file)
      .sort();
    const report = (): PersistenceReport => ({
      plugin: this.name,
      dryRun,
      copied: plan.copied,
      merged,
      keptFromNewBase: plan.keptFromNewBase,
      deleted: plan.deleted,
      conflicts,
      ...(recordPath === undefined ? {} : { delta: recordPath }),
    });
    if (recordPath === undefined) return report();

    emit(context, {
      type: 'step',
      step: 'persistence.apply',
      message: `Removing ${plan.remove.length}, streaming ${plan.extract.length} paths from the old layer`,
    });
    await this.writer.remove(trees.newLayer, plan.remove);
    // Conflicts kept for the admin: the new base's version is kept beside, as PATH.imgnew.
    await this.writer.moveAside(trees.newLayer, plan.keepNew, '.imgnew');
    await this.writer.assertWritable(trees.newLayer, plan.extract, (p) => layer.get(p)?.type);
    // While the two tars run, the main thread describes the admin's side for the manifest (sha256,
    // xattrs: the pages tar reads) and works out keptFromNewBase.
    let describing: Promise<Map<string, EntryState>> | undefined;
    const describe = () => describeAdmin(trees.oldLayer, plan.pack, (p) => layer.get(p)!, xattrs);
    try {
      await this.writer.stream(trees.oldLayer, trees.newLayer, plan.extract, context, () => {
        describing = describe();
        void plan.keptFromNewBase;
      });
    } catch (e) {
      await describing?.catch(() => undefined);
      throw e;
    }
    const after = await (describing ?? describe());
    // The admin's versions the new base's won over: PATH.imgsave, or BLOCKER.imgsave/… for those below a
    // path the new base made a non-directory.
    await this.writer.saveCopies(
      trees.oldLayer,
      trees.newLayer,
      [
        ...plan.save.map((p) => ({ pack: [p], from: p, to: `${p}.imgsave` })),
        ...[...plan.unplaced].map(([blocker, pack]) => ({ pack, from: blocker, to: `${blocker}.imgsave` })),
      ],
      context,
    );
    await writeAccountMerges(trees, merges, context);

    const applied = new Set([...plan.copied, ...plan.deleted]);
    const byPath = new Map(conflicts.map((c) => [c.path, c]));
    const entries: ManifestEntry[] = [...plan.changes].map(([path, change]) => {
      const b = base.get(path);
      const outcome: Outcome = applied.has(path) ? 'applied' : (byPath.get(path)?.resolution ?? 'already-in-new-base');
      return { path, change, outcome, before: b === undefined ? null : stateOf(b), after: after.get(path) ?? null };
    });
    // Other names of a carried hard-linked file are packed too: recorded as metadata changes of theirs.
    for (const p of plan.pack)
      if (!plan.changes.has(p)) {
        const b = base.get(p);
        entries.push({
          path: p,
          change: 'metadata',
          outcome: applied.has(p) ? 'applied' : 'already-in-new-base',
          before: b === undefined ? null : stateOf(b),
          after: after.get(p)!,
        });
      }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      created: new Date().toISOString(),
      roots,
      excludes: [...policy.excludes],
      trees: { oldBase: trees.oldBase, oldLayer: trees.oldLayer, newLayer: trees.newLayer },
      changes: Object.fromEntries(plan.changes),
      deleted: [...plan.changes].filter(([, c]) => c === 'deleted').map(([p]) => p),
      merged,
      conflicts,
      entries: entries.sort((a, b) => (a.path < b.path ? -1 : 1)),
    };
    await this.writer.writeNew(recordPath, `${JSON.stringify(manifest, null, 1)}\n`);
    return report();
  }

  /**
   * Packs the delta of a carry-over as a tar file: the admin's version of every changed path, taken
   * from `source` (the old layer, or any tree that still holds them, e.g. the new layer for what was
   * applied), plus the manifest as member `.imgbased-delta.json`. Every entry is checked against the
   * manifest (type, mode, owner, size, link, sha256, xattrs) before packing and its ctime after: a tree
   * that changed since is refused (E_UNSAFE_PATH) and no tar is left behind.
   */
  exportDelta(
    recordPath: string,
    source: string,
    tarPath: string,
    context?: OperationContext,
  ): Promise<{ delta: string; members: number }> {
    return exportDelta(this.runner, this.writer, recordPath, source, tarPath, context);
  }

  /**
   * Re-applies an exported delta onto the tree `target`, three ways against the manifest: a path the
   * target still has as the old base had it (type, mode, owner, size, mtime) gets the admin's version;
   * one that already is the admin's version is left; any other is a conflict under the policy's rules
   * (`fail`: nothing is written). The delta's content is extracted into a staging directory inside the
   * target and checked against the manifest's digests before anything in the target is touched. A
   * delta naming any path outside the policy's paths is refused whole (E_UNSAFE_PATH, nothing written).
   */
  applyDelta(
    deltaPath: string,
    target: string,
    policy: PersistencePolicy,
    options: { readonly dryRun: boolean } = { dryRun: false },
    context?: OperationContext,
  ): Promise<PersistenceReport> {
    const dryRun = options.dryRun || context?.dryRun === true;
    return applyDelta(
      this.runner,
      this.writer,
      deltaPath,
      target,
      policy,
      { dryRun, staging: this.deltaDirectory },
      context,
    );
  }

  /** Where the record goes: the requested absolute path (its directory made safely inside the new layer), or the default. */
  private async recordPath(newLayer: string, requested: string | undefined): Promise<string> {
    const stamp = new Date().toISOString().replaceAll(':', '-');
    if (requested === undefined) {
      await ensureDirectory(newLayer, this.deltaDirectory);
      return join(newLayer, this.deltaDirectory, `delta-${stamp}.json`);
    }
    if (!isAbsolute(requested)) throw new UnsafePathError(requested, 'the delta path must be absolute');
    const inside = relative(newLayer, requested);
    if (!inside.startsWith('..')) await ensureDirectory(newLayer, dirname(`/${inside}`));
    if ((await lstat(requested).catch(() => undefined)) !== undefined)
      throw new UnsafePathError(requested, 'exists already');
    await stat(dirname(requested));
    return requested;
  }
}

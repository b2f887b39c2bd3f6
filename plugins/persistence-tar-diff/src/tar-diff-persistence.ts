import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import {
  ACCOUNT_FILES,
  CommandRunner,
  type ConflictPolicy,
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
import {
  currentState,
  describeAdmin,
  type EntryState,
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestEntry,
  type Outcome,
  parseManifest,
  stateOf,
  timeNs,
  verifyAgainst,
} from './manifest.js';
import { type Probe, planCarryOver } from './plan.js';
import { batchedXattrs, readXattrs, sameContent, sha256File, walkTree, xattrDigest } from './tree.js';

/** The name of the manifest member in an exported delta. */
export const DELTA_MANIFEST = '.imgbased-delta.json';
/** Where the record (the manifest) is kept when the options name no path: inside the new layer. */
export const DEFAULT_DELTA_DIRECTORY = '/var/lib/imgbased/persistence';

/**
 * GNU tar options that keep everything: owner and mode (numeric), every xattr byte for byte (the SELinux
 * label is the xattr security.selinux, capabilities are security.capability), ACLs, holes. Not
 * `--selinux`: it rewrites the label through libselinux, which changes its bytes (adds a NUL).
 */
const TAR_KEEP = ['--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '--sparse'];
/** 128 KiB records through the FIFO rather than 10 KiB: a third less time for the two tars. */
const FIFO_RECORDS = ['--blocking-factor=256'];
/** Extraction that restores owner, mode and directory times exactly. */
const TAR_RESTORE = ['--same-permissions', '--same-owner', '--delay-directory-restore'];

/**
 * Three-way carry-over: what the admin changed in the old layer relative to the old base is streamed
 * from the old layer into the new layer (GNU tar to GNU tar, through a FIFO: the content is written
 * once) where the new base did not change the same path; paths changed on both sides follow the
 * per-path conflict policy. The kept record is a manifest with digests; `exportDelta` packs the tar
 * delta from it, `applyDelta` re-applies an exported delta.
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
    const walk = (dir: string, snapshot: boolean) => walkTree(this.runner, dir, roots, excluded, context, snapshot);
    // The new layer is only compared across file systems: it goes without the snapshot fields.
    // The plan awaits the new layer's listing only once it has the admin's changes (the listings of a
    // cold tree take longest). Its failure is handled there; this keeps it from counting as unhandled
    // while the other two run.
    const nextListing = walk(trees.newLayer, false);
    nextListing.catch(() => undefined);
    const [base, layer] = await Promise.all([walk(trees.oldBase, true), walk(trees.oldLayer, true)]);
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
    await this.remove(trees.newLayer, plan.remove);
    await this.assertWritable(trees.newLayer, plan.extract, (p) => layer.get(p)?.type);
    // While the two tars run, the main thread describes the admin's side for the manifest (sha256,
    // xattrs: the pages tar reads) and works out keptFromNewBase.
    let describing: Promise<Map<string, EntryState>> | undefined;
    const describe = () => describeAdmin(trees.oldLayer, plan.pack, (p) => layer.get(p)!, xattrs);
    try {
      await this.stream(trees.oldLayer, trees.newLayer, plan.extract, context, () => {
        describing = describe();
        void plan.keptFromNewBase;
      });
    } catch (e) {
      await describing?.catch(() => undefined);
      throw e;
    }
    const after = await (describing ?? describe());
    await this.save(trees.oldLayer, trees.newLayer, plan.save, context);
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
    await this.writeNew(recordPath, `${JSON.stringify(manifest, null, 1)}\n`);
    return report();
  }

  /**
   * Packs the delta of a carry-over as a tar file: the admin's version of every changed path, taken
   * from `source` (the old layer, or any tree that still holds them, e.g. the new layer for what was
   * applied), plus the manifest as member `.imgbased-delta.json`. Every entry is checked against the
   * manifest (type, mode, owner, size, link, sha256, xattrs) before packing and its ctime after: a tree
   * that changed since is refused (E_UNSAFE_PATH) and no tar is left behind.
   */
  async exportDelta(
    recordPath: string,
    source: string,
    tarPath: string,
    context?: OperationContext,
  ): Promise<{ delta: string; members: number }> {
    const text = await this.readText(recordPath);
    const manifest = parseManifest(text, recordPath);
    if (!isAbsolute(tarPath)) throw new UnsafePathError(tarPath, 'the delta path must be absolute');
    if ((await lstat(tarPath).catch(() => undefined)) !== undefined)
      throw new UnsafePathError(tarPath, 'exists already');
    for (const root of manifest.roots) await assertRealParents(source, root);
    emit(context, { type: 'step', step: 'persistence.verify', message: `Checking ${source} against ${recordPath}` });
    const { mismatches, ctimes } = await verifyAgainst(this.runner, source, manifest, context);
    if (mismatches.length > 0)
      throw new UnsafePathError(
        tarPath,
        `${source} no longer holds the recorded changes (${mismatches.length}; first: ${mismatches[0]})`,
      );
    const members = manifest.entries.filter((e) => e.after !== null).map((e) => e.path);
    const work = await mkdtemp(join(tmpdir(), 'imgbased-tar-diff-'));
    try {
      await writeFile(join(work, 'list'), members.map((p) => p.slice(1)).join('\0'));
      await writeFile(join(work, DELTA_MANIFEST), text);
      emit(context, { type: 'step', step: 'persistence.export', message: `Packing ${members.length} paths` });
      await this.tar(
        [
          '--create',
          '--file',
          tarPath,
          ...TAR_KEEP,
          '--no-recursion',
          '-C',
          source,
          '--null',
          '--verbatim-files-from',
          '--files-from',
          join(work, 'list'),
        ],
        context,
      );
      await this.tar(['--append', '--file', tarPath, '-C', work, '--', DELTA_MANIFEST], context);
      for (const [p, ctime] of ctimes) {
        const now = await currentState(source, p);
        if (now?.ctimeNs !== ctime) throw new UnsafePathError(tarPath, `${p} changed while it was packed`);
      }
    } catch (e) {
      await rm(tarPath, { force: true });
      throw e;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return { delta: tarPath, members: members.length };
  }

  /**
   * Re-applies an exported delta onto the tree `target`, three ways against the manifest: a path the
   * target still has as the old base had it (type, mode, owner, size, mtime) gets the admin's version;
   * one that already is the admin's version is left; any other is a conflict under the policy's rules
   * (`fail`: nothing is written). The delta's content is extracted into a staging directory inside the
   * target and checked against the manifest's digests before anything in the target is touched.
   */
  async applyDelta(
    deltaPath: string,
    target: string,
    policy: PersistencePolicy,
    options: { readonly dryRun: boolean } = { dryRun: false },
    context?: OperationContext,
  ): Promise<PersistenceReport> {
    const dryRun = options.dryRun || this.runner.dryRun;
    const { stdout } = await this.runner.run(
      { argv: ['tar', '--extract', '--to-stdout', '--file', deltaPath, '--', DELTA_MANIFEST], mutates: false },
      context,
    );
    const manifest = parseManifest(stdout, deltaPath);
    const excluded = excludeMatcher(policy.excludes);
    const entries = manifest.entries.filter((e) => !excluded(e.path));
    const copied: string[] = [];
    const deleted: string[] = [];
    const save: string[] = [];
    const conflicts: PersistenceConflict[] = [];
    const conflict = (entry: ManifestEntry, reason: string): boolean => {
      const rule: ConflictPolicy = conflictPolicyFor(policy, entry.path);
      const resolution = rule === 'keep-admin' ? 'kept-admin' : rule === 'fail' ? 'failed' : 'took-new-saved-admin';
      const saveIt = resolution === 'took-new-saved-admin' && entry.after !== null && entry.after.type !== 'd';
      if (saveIt) save.push(entry.path);
      conflicts.push({
        path: entry.path,
        reason,
        resolution,
        ...(saveIt ? { savedAs: `${entry.path}.imgsave` } : {}),
      });
      return resolution === 'kept-admin';
    };
    const xattrs = await readXattrs(
      this.runner,
      entries.map((e) => join(target, e.path)),
      context,
    );
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (const entry of entries) {
      await assertRealParents(target, entry.path);
      const have = await currentState(target, entry.path);
      const want = entry.after;
      let isAdmin =
        want === null
          ? have === undefined
          : have !== undefined &&
            sameMeta(have, want) &&
            (want.type !== 'f' || have.size === want.size) &&
            xattrDigest(xattrs.get(join(target, entry.path)) ?? '') === want.xattrs;
      // Same metadata as the admin's file: the bytes decide.
      if (isAdmin && want?.type === 'f' && want.sha256 !== undefined)
        isAdmin = (await sha256File(join(target, entry.path), buffer)) === want.sha256;
      if (isAdmin) continue;
      const isBase =
        entry.before === null
          ? have === undefined
          : have !== undefined &&
            sameMeta(have, entry.before) &&
            (have.type !== 'f' || (have.size === entry.before.size && have.mtimeNs === timeNs(entry.before.mtime)));
      if (isBase || conflict(entry, `${entry.change} by the admin; the target has changed it too`)) {
        if (want === null) deleted.push(entry.path);
        else copied.push(entry.path);
      }
    }
    const failed = conflicts.filter((c) => c.resolution === 'failed');
    if (failed.length > 0) throw new PersistenceConflictError(failed);
    const report: PersistenceReport = {
      plugin: this.name,
      dryRun,
      copied: copied.sort(),
      merged: [],
      keptFromNewBase: [],
      deleted: deleted.sort(),
      conflicts,
      delta: deltaPath,
    };
    if (dryRun) return report;

    await ensureDirectory(target, DEFAULT_DELTA_DIRECTORY);
    const staging = await mkdtemp(join(target, DEFAULT_DELTA_DIRECTORY, '.apply-'));
    try {
      await mkdir(join(staging, 'tree'), { mode: 0o700 });
      emit(context, {
        type: 'step',
        step: 'persistence.verify',
        message: `Checking ${deltaPath} against its manifest`,
      });
      // Only the members the manifest names (and no `..`: GNU tar refuses those) are extracted.
      const list = join(staging, '.members');
      const members = manifest.entries.filter((e) => e.after !== null).map((e) => e.path.slice(1));
      await writeFile(list, members.join('\0'));
      await this.tar(
        [
          '--extract',
          '--file',
          deltaPath,
          ...TAR_KEEP,
          ...TAR_RESTORE,
          '--no-recursion',
          '-C',
          join(staging, 'tree'),
          '--null',
          '--verbatim-files-from',
          '--files-from',
          list,
        ],
        context,
      );
      const tree = join(staging, 'tree');
      const { mismatches } = await verifyAgainst(this.runner, tree, manifest, context);
      if (mismatches.length > 0)
        throw new UnsafePathError(
          target,
          `${deltaPath} does not match its manifest (${mismatches.length}; first: ${mismatches[0]})`,
        );
      const types = new Map(manifest.entries.map((e) => [e.path, e.after?.type]));
      const typeOf = (p: string) => types.get(p);
      const remove: string[] = [];
      for (const p of [...copied, ...deleted]) {
        const have = await currentState(target, p);
        if (have !== undefined && (typeOf(p) === undefined || have.type !== typeOf(p))) remove.push(p);
      }
      await this.remove(
        target,
        remove.sort((a, b) => b.split('/').length - a.split('/').length),
      );
      await this.assertWritable(target, copied, typeOf);
      await this.stream(tree, target, copied, context);
      await this.save(tree, target, save, context);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    return report;
  }

  /** Removes paths (children first), each after checking that no parent is a symlink. */
  private async remove(root: string, paths: readonly string[]): Promise<void> {
    for (const p of paths) {
      await assertRealParents(root, p, false);
      const target = join(root, p);
      const st = await lstat(target).catch(() => undefined);
      if (st === undefined) continue;
      if (st.isDirectory()) await rmdir(target);
      else await unlink(target);
    }
  }

  /**
   * Each existing parent of a path about to be extracted is a real directory, or is extracted as one
   * first. Parents are shared by many paths: each is looked at once.
   */
  private async assertWritable(
    root: string,
    paths: readonly string[],
    extractedType: (path: string) => string | undefined,
  ): Promise<void> {
    const extracting = new Set(paths);
    const seen = new Map<string, Promise<Stats | undefined>>();
    const look = (q: string) => {
      let st = seen.get(q);
      if (st === undefined) {
        st = lstat(join(root, q)).catch(() => undefined);
        seen.set(q, st);
      }
      return st;
    };
    for (const path of paths) {
      const parts = path.split('/').filter(Boolean);
      for (let i = 1; i < parts.length; i++) {
        const q = `/${parts.slice(0, i).join('/')}`;
        const st = await look(q);
        if (st === undefined) {
          if (extracting.has(q) && extractedType(q) !== 'd')
            throw new UnsafePathError(join(root, path), `${q} would not be a directory`);
          continue;
        }
        if (!st.isDirectory())
          throw new UnsafePathError(join(root, path), `${join(root, q)} is not a directory (a symlink?)`);
      }
    }
  }

  /**
   * Streams `paths` of the tree `from` into the tree `to`: `tar --create` writes into a FIFO that `tar
   * --extract` reads, so the bytes are written once, into the target, and no shell joins the two. When
   * one side fails, the other is cancelled (else it would wait on the FIFO for ever).
   */
  private async stream(
    from: string,
    to: string,
    paths: readonly string[],
    context?: OperationContext,
    meanwhile?: () => void,
  ): Promise<void> {
    if (paths.length === 0) {
      meanwhile?.();
      return;
    }
    const work = await mkdtemp(join(tmpdir(), 'imgbased-tar-diff-'));
    try {
      const list = join(work, 'list');
      const fifo = join(work, 'stream');
      await writeFile(list, paths.map((p) => p.slice(1)).join('\0'));
      await this.runner.run({ argv: ['mkfifo', '--mode=600', '--', fifo], mutates: true }, context);
      // One signal for both sides: the operation's cancel, or the other side's failure.
      const abort = new AbortController();
      const outer = context?.signal;
      const forward = () => abort.abort(outer?.reason);
      if (outer?.aborted) forward();
      outer?.addEventListener('abort', forward, { once: true });
      const side: OperationContext = { ...context, signal: abort.signal };
      let failure: { error: unknown } | undefined;
      const guard = (run: Promise<unknown>) =>
        run.catch((error: unknown) => {
          failure ??= { error };
          abort.abort(error);
        });
      const both = Promise.all([
        guard(
          this.tar(
            [
              '--create',
              '--file',
              fifo,
              ...FIFO_RECORDS,
              ...TAR_KEEP,
              '--no-recursion',
              '-C',
              from,
              '--null',
              '--verbatim-files-from',
              '--files-from',
              list,
            ],
            side,
          ),
        ),
        guard(
          this.tar(
            [
              '--extract',
              '--file',
              fifo,
              ...FIFO_RECORDS,
              '--read-full-records',
              ...TAR_KEEP,
              ...TAR_RESTORE,
              '-C',
              to,
            ],
            side,
          ),
        ),
      ]);
      // Both tars were started above: the main thread is free until they end.
      meanwhile?.();
      await both;
      outer?.removeEventListener('abort', forward);
      if (failure !== undefined) throw failure.error;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Saves the admin's version of each path beside the new one, as PATH.imgsave. */
  private async save(from: string, to: string, paths: readonly string[], context?: OperationContext): Promise<void> {
    for (const p of paths) {
      await assertRealParents(to, p, false);
      await this.runner.run(
        {
          argv: [
            'cp',
            '--archive',
            '--no-dereference',
            '--remove-destination',
            '--no-target-directory',
            '--',
            join(from, p),
            join(to, `${p}.imgsave`),
          ],
          mutates: true,
        },
        context,
      );
    }
  }

  /** Where the record goes: the requested absolute path (its directory made safely inside the new layer), or the default. */
  private async recordPath(newLayer: string, requested: string | undefined): Promise<string> {
    const stamp = new Date().toISOString().replaceAll(':', '-');
    if (requested === undefined) {
      await ensureDirectory(newLayer, DEFAULT_DELTA_DIRECTORY);
      return join(newLayer, DEFAULT_DELTA_DIRECTORY, `delta-${stamp}.json`);
    }
    if (!isAbsolute(requested)) throw new UnsafePathError(requested, 'the delta path must be absolute');
    const inside = relative(newLayer, requested);
    if (!inside.startsWith('..')) await ensureDirectory(newLayer, dirname(`/${inside}`));
    if ((await lstat(requested).catch(() => undefined)) !== undefined)
      throw new UnsafePathError(requested, 'exists already');
    await stat(dirname(requested));
    return requested;
  }

  /** Creates a file that must not exist yet (never through a symlink). */
  private async writeNew(path: string, text: string): Promise<void> {
    const handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
  }

  private async readText(path: string): Promise<string> {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  }

  private async tar(args: string[], context?: OperationContext): Promise<void> {
    await this.runner.run({ argv: ['tar', ...args], mutates: true }, context);
  }
}

const sameMeta = (a: EntryState, b: EntryState) =>
  a.type === b.type && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && (a.link ?? '') === (b.link ?? '');

import { lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import {
  type CommandRunner,
  conflictPolicyFor,
  emit,
  excludeMatcher,
  isUnder,
  type OperationContext,
  type PersistenceConflict,
  PersistenceConflictError,
  type PersistencePolicy,
  type PersistenceReport,
  persistedRoots,
  UnsafePathError,
} from '@imgbased/core';
import { assertRealParents, ensureDirectory, nulList } from '@imgbased/system';
import { currentState, type EntryState, type ManifestEntry, parseManifest, timeNs, verifyAgainst } from './manifest.js';
import { readXattrs, sha256File, xattrDigest } from './tree.js';
import { TAR_KEEP, TAR_RESTORE, type TreeWriter } from './tree-writer.js';

/** The name of the manifest member in an exported delta. */
export const DELTA_MANIFEST = '.imgbased-delta.json';
/** Where the record (the manifest) is kept when the options name no path: inside the new layer. */
export const DEFAULT_DELTA_DIRECTORY = '/var/lib/imgbased/persistence';

/**
 * Packs the delta of a carry-over as a tar file (see TarDiffPersistence.exportDelta): every entry of
 * `source` is checked against the manifest before packing and its ctime after.
 */
export async function exportDelta(
  runner: CommandRunner,
  writer: TreeWriter,
  recordPath: string,
  source: string,
  tarPath: string,
  context?: OperationContext,
): Promise<{ delta: string; members: number }> {
  const text = await writer.readText(recordPath);
  const manifest = parseManifest(text, recordPath);
  if (!isAbsolute(tarPath)) throw new UnsafePathError(tarPath, 'the delta path must be absolute');
  if ((await lstat(tarPath).catch(() => undefined)) !== undefined) throw new UnsafePathError(tarPath, 'exists already');
  for (const root of manifest.roots) await assertRealParents(source, root);
  emit(context, { type: 'step', step: 'persistence.verify', message: `Checking ${source} against ${recordPath}` });
  const { mismatches, ctimes } = await verifyAgainst(runner, source, manifest, context);
  if (mismatches.length > 0)
    throw new UnsafePathError(
      tarPath,
      `${source} no longer holds the recorded changes (${mismatches.length}; first: ${mismatches[0]})`,
    );
  const members = manifest.entries.filter((e) => e.after !== null).map((e) => e.path);
  const work = await mkdtemp(join(tmpdir(), 'imgbased-tar-diff-'));
  try {
    await writeFile(join(work, 'list'), nulList(members.map((p) => p.slice(1))));
    await writeFile(join(work, DELTA_MANIFEST), text);
    emit(context, { type: 'step', step: 'persistence.export', message: `Packing ${members.length} paths` });
    const create = ['--create', '--file', tarPath, ...TAR_KEEP, '--no-recursion', '-C', source];
    await writer.tar([...create, '--null', '--verbatim-files-from', '--files-from', join(work, 'list')], context);
    await writer.tar(['--append', '--file', tarPath, '-C', work, '--', DELTA_MANIFEST], context);
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

/** Re-applies an exported delta onto the tree `target`, three ways against its manifest (see TarDiffPersistence.applyDelta). */
export async function applyDelta(
  runner: CommandRunner,
  writer: TreeWriter,
  deltaPath: string,
  target: string,
  policy: PersistencePolicy,
  options: { readonly dryRun: boolean; readonly staging: string },
  context?: OperationContext,
): Promise<PersistenceReport> {
  const { dryRun } = options;
  const { stdout } = await runner.run(
    { argv: ['tar', '--extract', '--to-stdout', '--file', deltaPath, '--', DELTA_MANIFEST], mutates: false },
    context,
  );
  const manifest = parseManifest(stdout, deltaPath);
  // A delta carries the policy's paths only: anything else (a hand-made or foreign delta) is refused
  // whole, before anything is read from the target or written to it.
  const roots = persistedRoots(policy);
  const outside = manifest.entries.find((e) => !roots.some((root) => isUnder(e.path, root)));
  if (outside !== undefined)
    throw new UnsafePathError(
      deltaPath,
      `the delta names ${outside.path}, outside the policy's paths (${roots.join(', ')})`,
    );
  const excluded = excludeMatcher(policy.excludes);
  const entries = manifest.entries.filter((e) => !excluded(e.path));
  const copied: string[] = [];
  const deleted: string[] = [];
  const save: string[] = [];
  const keepNew: string[] = [];
  const conflicts: PersistenceConflict[] = [];
  const conflict = (entry: ManifestEntry, have: EntryState | undefined, reason: string): boolean => {
    const rule = conflictPolicyFor(policy, entry.path);
    const resolution = rule === 'keep-admin' ? 'kept-admin' : rule === 'fail' ? 'failed' : 'took-new-saved-admin';
    let savedAs: string | undefined;
    if (resolution === 'took-new-saved-admin' && entry.after !== null && entry.after.type !== 'd') {
      save.push(entry.path);
      savedAs = `${entry.path}.imgsave`;
    } else if (resolution === 'kept-admin' && have !== undefined && have.type !== 'd') {
      keepNew.push(entry.path);
      savedAs = `${entry.path}.imgnew`;
    }
    conflicts.push({ path: entry.path, reason, resolution, ...(savedAs === undefined ? {} : { savedAs }) });
    return resolution === 'kept-admin';
  };
  const xattrs = await readXattrs(
    runner,
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
    if (isBase || conflict(entry, have, `${entry.change} by the admin; the target has changed it too`)) {
      if (want === null) deleted.push(entry.path);
      else copied.push(entry.path);
    }
  }
  const failed = conflicts.filter((c) => c.resolution === 'failed');
  if (failed.length > 0) throw new PersistenceConflictError(failed);
  const report: PersistenceReport = {
    plugin: 'tar-diff',
    dryRun,
    copied: copied.sort(),
    merged: [],
    keptFromNewBase: [],
    deleted: deleted.sort(),
    conflicts,
    delta: deltaPath,
  };
  if (dryRun) return report;

  await ensureDirectory(target, options.staging);
  const staging = await mkdtemp(join(target, options.staging, '.apply-'));
  try {
    await mkdir(join(staging, 'tree'), { mode: 0o700 });
    emit(context, { type: 'step', step: 'persistence.verify', message: `Checking ${deltaPath} against its manifest` });
    // Only the members the manifest names (and no `..`: GNU tar refuses those) are extracted.
    const list = join(staging, '.members');
    const members = manifest.entries.filter((e) => e.after !== null).map((e) => e.path.slice(1));
    await writeFile(list, nulList(members));
    const tree = join(staging, 'tree');
    const extract = ['--extract', '--file', deltaPath, ...TAR_KEEP, ...TAR_RESTORE, '--no-recursion', '-C', tree];
    await writer.tar([...extract, '--null', '--verbatim-files-from', '--files-from', list], context);
    const { mismatches } = await verifyAgainst(runner, tree, manifest, context);
    if (mismatches.length > 0)
      throw new UnsafePathError(
        target,
        `${deltaPath} does not match its manifest (${mismatches.length}; first: ${mismatches[0]})`,
      );
    const types = new Map(manifest.entries.map((e) => [e.path, e.after?.type]));
    const typeOf = (p: string) => types.get(p);
    const aside = new Set(keepNew);
    const remove: string[] = [];
    for (const p of [...copied, ...deleted]) {
      if (aside.has(p)) continue;
      const have = await currentState(target, p);
      if (have !== undefined && (typeOf(p) === undefined || have.type !== typeOf(p))) remove.push(p);
    }
    await writer.remove(
      target,
      remove.sort((a, b) => b.split('/').length - a.split('/').length),
    );
    await writer.moveAside(target, keepNew, '.imgnew');
    await writer.assertWritable(target, copied, typeOf);
    await writer.stream(tree, target, copied, context);
    await writer.saveCopies(
      tree,
      target,
      save.map((p) => ({ pack: [p], from: p, to: `${p}.imgsave` })),
      context,
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return report;
}

const sameMeta = (a: EntryState, b: EntryState) =>
  a.type === b.type && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && (a.link ?? '') === (b.link ?? '');

import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  conflictPolicyFor,
  definePersistencePlugin,
  excludeMatcher,
  type Persistence,
  type PersistenceConflict,
  PersistenceConflictError,
  type PersistencePolicy,
  type PersistenceReport,
  type PersistenceTrees,
  PLUGIN_CONTRACT_VERSIONS,
  UnsafePathError,
} from '@imgbased/core';
import type { PersistenceContractFactory } from '../src/index.js';

/**
 * A minimal three-way carrier on Node's fs, written for the testkit's own tests: the correct one passes
 * every check; each flaw breaks one guarantee. Files, links and directories; modes; no owners or xattrs.
 */
export type PersistenceFlaw =
  /** The admin's deletions are not carried. */
  | 'no-deletes'
  /** Every file of the old layer is taken, so what only the new base changed is lost. */
  | 'overwrites-new-base'
  /** Every conflict is resolved keep-admin, whatever the policy. */
  | 'ignores-policy'
  /** Under `fail`, what does not conflict is written before failing. */
  | 'fail-writes-first'
  /** Writes and deletes through links in the new layer. */
  | 'follows-links'
  /** Takes any policy path as it comes. */
  | 'no-policy-check'
  /** Stages its work beside the new layer and leaves it there. */
  | 'stages-beside'
  /** Writes in a dry run. */
  | 'ignores-dry-run';

type State =
  | { readonly kind: 'file'; readonly mode: number; readonly data: Buffer }
  | { readonly kind: 'link'; readonly target: string }
  | { readonly kind: 'dir'; readonly mode: number }
  | undefined;

async function stateOf(path: string): Promise<State> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat === undefined) return undefined;
  if (stat.isSymbolicLink()) return { kind: 'link', target: await readlink(path) };
  if (stat.isDirectory()) return { kind: 'dir', mode: stat.mode & 0o7777 };
  return { kind: 'file', mode: stat.mode & 0o7777, data: await readFile(path) };
}

function same(a: State, b: State): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === 'file' && b.kind === 'file') return a.mode === b.mode && a.data.equals(b.data);
  if (a.kind === 'link' && b.kind === 'link') return a.target === b.target;
  return a.kind === 'dir' && b.kind === 'dir' && a.mode === b.mode;
}

/** Every path under `root` in `tree`, never through a link. */
async function walk(tree: string, root: string, into: Set<string>): Promise<void> {
  const state = await stateOf(join(tree, root));
  if (state === undefined) return;
  into.add(root);
  if (state.kind !== 'dir') return;
  for (const name of await readdir(join(tree, root))) await walk(tree, `${root}/${name}`, into);
}

/** True when every parent of `path` in `tree` is a real directory (made when missing). */
async function realParents(tree: string, path: string, follow: boolean): Promise<boolean> {
  const parts = path.split('/').filter(Boolean).slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const dir = join(tree, ...parts.slice(0, i));
    const state = await stateOf(dir);
    if (state === undefined) await mkdir(dir);
    else if (state.kind !== 'dir' && !(follow && state.kind === 'link')) return false;
  }
  return true;
}

async function place(tree: string, path: string, state: State, follow: boolean): Promise<void> {
  if (!(await realParents(tree, path, follow))) return; // below a link: not ours to write through
  const full = join(tree, path);
  if (state === undefined) return void (await rm(full, { recursive: true, force: true }));
  const now = await stateOf(full);
  if (state.kind === 'dir') {
    if (now?.kind !== 'dir') {
      await rm(full, { force: true });
      await mkdir(full);
    }
    return void (await chmod(full, state.mode));
  }
  if (follow && state.kind === 'file') return void (await writeFile(full, state.data, { mode: state.mode }));
  if (now?.kind === 'dir') await rm(full, { recursive: true });
  const temporary = join(dirname(full), '.simple-new');
  if (state.kind === 'link') await symlink(state.target, temporary);
  else {
    await writeFile(temporary, state.data);
    await chmod(temporary, state.mode);
  }
  await rename(temporary, full);
}

function checkPolicy(policy: PersistencePolicy): void {
  for (const path of [...policy.paths, ...(policy.conflictRules ?? []).map((r) => r.path)]) {
    if (!path.startsWith('/')) throw new UnsafePathError(path, 'policy paths are absolute');
    if (path.split('/').includes('..')) throw new UnsafePathError(path, "policy paths have no '..'");
  }
}

class SimpleCarrier implements Persistence {
  readonly name = 'simple';
  constructor(private readonly flaws: ReadonlySet<PersistenceFlaw>) {}

  async carryOver(trees: PersistenceTrees, policy: PersistencePolicy, options: { dryRun: boolean }) {
    const flaw = (f: PersistenceFlaw) => this.flaws.has(f);
    if (!flaw('no-policy-check')) checkPolicy(policy);
    const excluded = excludeMatcher(policy.excludes);
    const paths = new Set<string>();
    for (const root of policy.paths) {
      for (const tree of [trees.oldBase, trees.oldLayer, trees.newLayer]) await walk(tree, root, paths);
    }
    const writes: [string, State][] = [];
    const conflicts: PersistenceConflict[] = [];
    const report = { copied: [] as string[], deleted: [] as string[], keptFromNewBase: [] as string[] };
    for (const path of [...paths].sort()) {
      if (excluded(path)) continue;
      const [base, admin, next] = await Promise.all(
        [trees.oldBase, trees.oldLayer, trees.newLayer].map((tree) => stateOf(join(tree, path))),
      );
      const adminChanged = !same(admin, base) || (flaw('overwrites-new-base') && admin !== undefined);
      if (!adminChanged) {
        if (!same(next, base) && next?.kind !== 'dir') report.keptFromNewBase.push(path);
        continue;
      }
      if (same(admin, next)) continue;
      if (!same(next, base) && !flaw('overwrites-new-base')) {
        const rule = flaw('ignores-policy') ? 'keep-admin' : conflictPolicyFor(policy, path);
        const reason = 'changed by the admin and by the new base';
        if (rule === 'fail') {
          conflicts.push({ path, reason, resolution: 'failed' });
          continue;
        }
        if (rule === 'take-new-save-admin') {
          conflicts.push({ path, reason, resolution: 'took-new-saved-admin', savedAs: `${path}.imgsave` });
          if (admin !== undefined) writes.push([`${path}.imgsave`, admin]);
          continue;
        }
        conflicts.push({ path, reason, resolution: 'kept-admin' });
      }
      if (admin === undefined && flaw('no-deletes')) continue;
      writes.push([path, admin]);
      if (admin?.kind !== 'dir') (admin === undefined ? report.deleted : report.copied).push(path);
    }
    const failed = conflicts.filter((c) => c.resolution === 'failed');
    const dryRun = options.dryRun && !flaw('ignores-dry-run');
    if (failed.length === 0 || flaw('fail-writes-first')) {
      if (flaw('stages-beside')) await writeFile(`${trees.newLayer}.staging`, 'left beside the new layer\n');
      if (!dryRun) for (const [path, state] of writes) await place(trees.newLayer, path, state, flaw('follows-links'));
    }
    if (failed.length > 0) throw new PersistenceConflictError(failed);
    return { plugin: this.name, dryRun, merged: [], conflicts, ...report } satisfies PersistenceReport;
  }
}

export function simplePersistencePlugin(flaws: readonly PersistenceFlaw[] = []) {
  return definePersistencePlugin({
    name: 'simple',
    contractVersion: PLUGIN_CONTRACT_VERSIONS.persistence,
    probeOrder: 99,
    create: () => ({ persistence: new SimpleCarrier(new Set(flaws)), policy: { paths: ['/etc'], excludes: [] } }),
  });
}

export function simplePersistenceFactory(flaws: readonly PersistenceFlaw[] = []): PersistenceContractFactory {
  return () => ({ definition: simplePersistencePlugin(flaws) });
}

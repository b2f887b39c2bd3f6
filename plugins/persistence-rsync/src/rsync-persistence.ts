import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ACCOUNT_FILES,
  CommandRunner,
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
import { assertRealParents, planAccountMerges, writeAccountMerges } from '@imgbased/system';
import { inject, injectable } from 'tsyringe';

/**
 * rsync options: archive (-rlptgoD), hard links, ACLs, xattrs (with SELinux labels and capabilities,
 * as root), sparse files, numeric ids (no name mapping through the running host's passwd), relative
 * paths, `--force` so that a directory the admin replaced by a file or link is replaced, and
 * `--checksum`: the old layer and the new base are different file systems whose files can share size
 * and modification second while their contents differ, which rsync's quick check would take as equal.
 */
export const RSYNC_OPTIONS = ['-aHAXS', '--checksum', '--numeric-ids', '--relative', '--force', '--8-bit-output'];

/**
 * Copies the configured paths from the old layer onto the new layer with the real rsync: whatever is
 * in the old layer wins, files only the new base has stay, nothing is deleted. The account databases
 * are merged by name instead (three ways, against the old base).
 */
@injectable()
export class RsyncPersistence implements Persistence {
  readonly name = 'rsync';

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
    const sources: string[] = [];
    for (const root of roots) {
      if (root === '/') throw new UnsafePathError(root, 'persisting the whole tree is not supported');
      await assertRealParents(trees.oldLayer, root);
      if ((await lstat(join(trees.oldLayer, root)).catch(() => undefined)) !== undefined) {
        sources.push(`${trees.oldLayer.replace(/\/+$/, '')}/.${root}`);
      }
    }

    // Plan the account merges first: a conflict under `fail` must leave the new layer untouched.
    const accounts = ACCOUNT_FILES.filter((f) => roots.some((r) => isUnder(f, r)) && !excluded(f));
    const { merges, conflicts } = await planAccountMerges(trees, policy, accounts);
    const failed = conflicts.filter((c) => c.resolution === 'failed');
    if (failed.length > 0) throw new PersistenceConflictError(failed);

    let copied: string[] = [];
    if (sources.length > 0) {
      emit(context, {
        type: 'step',
        step: 'persistence.rsync',
        message: `Copying ${roots.join(', ')} from the old layer`,
      });
      const excludes = [...policy.excludes, ...accounts].map((e) => `--exclude=${e}`);
      const result = await this.runner.run(
        {
          argv: [
            'rsync',
            ...RSYNC_OPTIONS,
            ...(dryRun ? ['--dry-run'] : []),
            '--out-format=%i %n',
            ...excludes,
            '--',
            ...sources,
            `${trees.newLayer.replace(/\/+$/, '')}/`,
          ],
          mutates: !dryRun,
        },
        context,
      );
      copied = parseItemized(result.stdout);
    }

    if (!dryRun) {
      await writeAccountMerges(trees, merges, context);
    }
    return {
      plugin: this.name,
      dryRun,
      copied,
      merged: merges.map((m) => m.file).sort(),
      keptFromNewBase: [],
      deleted: [],
      conflicts,
    };
  }
}

/**
 * The paths rsync changed, from `--out-format='%i %n'` lines (`>f+++++++++ etc/new.conf`,
 * `.f...p..... etc/chmod.conf`, `cL+++++++++ etc/localtime`), absolute, sorted. Directories whose only
 * change is their modification time (`.d..t......`) are left out. rsync prints unusual bytes as `\#ooo`.
 */
export function parseItemized(stdout: string): string[] {
  const out = new Set<string>();
  for (const line of stdout.split('\n')) {
    const match = /^([<>ch.*][fdLDSh][^ ]*) (.+)$/.exec(line);
    if (!match) continue;
    const [, flags, name] = match as unknown as [string, string, string];
    if (flags[1] === 'd' && /^\.d[.]*t[.]*$/.test(flags)) continue;
    const path = name
      .replace(/\/$/, '')
      .replace(/\\#([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (path === '.' || path === '') continue;
    out.add(`/${path}`);
  }
  return [...out].sort();
}

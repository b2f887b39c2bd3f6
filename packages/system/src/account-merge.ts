import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AccountFile,
  type AccountTexts,
  conflictPolicyFor,
  emit,
  mergeAccountDatabases,
  type OperationContext,
  type PersistenceConflict,
  type PersistencePolicy,
  type PersistenceTrees,
  UnsafePathError,
} from '@imgbased/core';
import { readRegular, writeInPlace } from './safe-fs.js';

/** One account database to write into the new layer, and the admin's copy to save beside it, if any. */
export interface AccountMerge {
  readonly file: AccountFile;
  readonly text: string;
  readonly save: string | undefined;
}

/**
 * Reads the account databases of the three trees and merges them by name (core's mergeAccountDatabases:
 * an account left out of passwd or group takes its shadow or gshadow line with it), deciding every
 * conflict by the policy. Shared by every persistence plugin, so that accounts are
 * carried over the same way whichever plugin copies the files. Writes nothing.
 */
export async function planAccountMerges(
  trees: PersistenceTrees,
  policy: PersistencePolicy,
  files: readonly AccountFile[],
): Promise<{ merges: AccountMerge[]; conflicts: PersistenceConflict[] }> {
  const merges: AccountMerge[] = [];
  const conflicts: PersistenceConflict[] = [];
  const texts: Partial<Record<AccountFile, AccountTexts>> = {};
  for (const file of files) {
    texts[file] = {
      base: await readRegular(trees.oldBase, file),
      admin: await readRegular(trees.oldLayer, file),
      next: await readRegular(trees.newLayer, file),
    };
  }
  const merged = mergeAccountDatabases(texts, (file) => conflictPolicyFor(policy, file));
  for (const file of files) {
    const onConflict = conflictPolicyFor(policy, file);
    const merge = merged.get(file)!;
    let saveAdmin = false;
    for (const c of merge.conflicts) {
      const resolution =
        onConflict === 'fail'
          ? 'failed'
          : c.collision || onConflict !== 'keep-admin'
            ? 'took-new-saved-admin'
            : 'kept-admin';
      if (resolution === 'took-new-saved-admin') saveAdmin = true;
      conflicts.push({
        path: file,
        reason: c.reason,
        resolution,
        ...(resolution === 'took-new-saved-admin' ? { savedAs: `${file}.imgsave` } : {}),
      });
    }
    if (merge.changed || saveAdmin)
      merges.push({ file, text: merge.text, save: saveAdmin ? texts[file]?.admin : undefined });
  }
  return { merges, conflicts };
}

/** Writes the merged databases (with the old layer's modes) and the saved admin copies, never through a link. */
export async function writeAccountMerges(
  trees: PersistenceTrees,
  merges: readonly AccountMerge[],
  context?: OperationContext,
): Promise<void> {
  for (const m of merges) {
    emit(context, { type: 'step', step: 'persistence.accounts', message: `Merging ${m.file} by name` });
    const mode = (await lstat(join(trees.oldLayer, m.file)).catch(() => undefined))?.mode ?? 0o600;
    if (m.save !== undefined) await writeInPlace(trees.newLayer, `${m.file}.imgsave`, m.save, 0o600);
    const current = await lstat(join(trees.newLayer, m.file)).catch(() => undefined);
    if (current !== undefined && !current.isFile()) {
      throw new UnsafePathError(join(trees.newLayer, m.file), 'not a regular file');
    }
    await writeInPlace(trees.newLayer, m.file, m.text, mode & 0o7777);
  }
}

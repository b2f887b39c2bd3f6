/**
 * File writes that never follow a symlink out of a tree (lstat-checked parents, O_NOFOLLOW opens):
 * what persistence plugins use to write into a layer they do not trust.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnsafePathError } from '@imgbased/core';
import { encodePath } from './byte-paths.js';

/**
 * Throws UnsafePathError unless every existing component of `path` (absolute inside the tree at
 * `root`) below the root, up to and excluding the last, is a real directory: nothing is ever written
 * through a symlink. Missing components are allowed when `allowMissing` is set. Names are bytes
 * (decodePath's strings).
 */
export async function assertRealParents(root: string, path: string, allowMissing = true): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  let current = root;
  for (const part of parts.slice(0, -1)) {
    current = join(current, part);
    const st = await lstat(encodePath(current)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' && allowMissing) return undefined;
      throw e;
    });
    if (st === undefined) return;
    if (!st.isDirectory()) throw new UnsafePathError(join(root, path), `${current} is not a directory (a symlink?)`);
  }
}

/** mkdir -p inside `root`, one component at a time, refusing symlinks. */
export async function ensureDirectory(root: string, path: string): Promise<void> {
  let current = root;
  for (const part of path.split('/').filter(Boolean)) {
    current = join(current, part);
    const st = await lstat(encodePath(current)).catch(() => undefined);
    if (st === undefined) await mkdir(encodePath(current), { mode: 0o700 });
    else if (!st.isDirectory()) throw new UnsafePathError(current, 'not a directory (a symlink?)');
  }
}

/** A regular file's text, or undefined when it is missing or not a regular file (never follows a symlink). */
export async function readRegular(root: string, path: string): Promise<string | undefined> {
  const st = await lstat(join(root, path)).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  return readFile(join(root, path), { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
}

/**
 * Rewrites a file in place (same inode: owner, mode, ACLs and SELinux label stay), or creates it with
 * `mode` when it is missing. Never follows a symlink.
 */
export async function writeInPlace(root: string, path: string, text: string, mode: number): Promise<void> {
  await assertRealParents(root, path, false);
  const target = join(root, path);
  const exists = (await lstat(target).catch(() => undefined)) !== undefined;
  const flags =
    constants.O_WRONLY | constants.O_NOFOLLOW | (exists ? constants.O_TRUNC : constants.O_CREAT | constants.O_EXCL);
  const handle = await open(target, flags, mode);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

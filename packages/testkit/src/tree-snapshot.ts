import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * Everything under `dir`, as `relative path → description`: type, mode, owner, then a regular file's
 * size, content digest and modification time (ns), or a link's target. Equal snapshots: nothing was
 * written. Subtrees named in `skip` (absolute paths) are left out.
 */
export async function snapshotTree(dir: string, skip: readonly string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (path: string): Promise<void> => {
    if (skip.includes(path)) return;
    const stat = await lstat(path, { bigint: true });
    const head = `${(Number(stat.mode) & 0o7777).toString(8)} ${stat.uid}:${stat.gid}`;
    const name = relative(dir, path) || '.';
    if (stat.isSymbolicLink()) {
      out[name] = `link ${head} -> ${await readlink(path)}`;
    } else if (stat.isFile()) {
      const digest = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      out[name] = `file ${head} ${stat.size} ${digest} ${stat.mtimeNs}`;
    } else if (stat.isDirectory()) {
      out[name] = `dir ${head}`;
      for (const entry of (await readdir(path)).sort()) await visit(join(path, entry));
    } else {
      out[name] = `other ${head} ${stat.rdev}`;
    }
  };
  await visit(dir);
  return out;
}

import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePath, encodePath } from '@imgbased/system';

/** What a tree has at a path, never following a symlink: f d l c b p s, or undefined for nothing. */
export async function typeAt(root: string, path: string): Promise<string | undefined> {
  const st = await lstat(encodePath(join(root, path))).catch(() => undefined);
  if (st === undefined) return undefined;
  return st.isFile()
    ? 'f'
    : st.isDirectory()
      ? 'd'
      : st.isSymbolicLink()
        ? 'l'
        : st.isCharacterDevice()
          ? 'c'
          : st.isBlockDevice()
            ? 'b'
            : st.isFIFO()
              ? 'p'
              : 's';
}

/** Every path below a directory of a tree (absolute inside the tree), never following a symlink. */
export async function entriesUnder(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(encodePath(join(root, dir)), { withFileTypes: true, encoding: 'buffer' }).catch(
    () => [],
  );
  for (const entry of entries) {
    const path = `${dir}/${decodePath(entry.name)}`;
    out.push(path);
    if (entry.isDirectory()) out.push(...(await entriesUnder(root, path)));
  }
  return out;
}

export const parentOf = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';

/** The ancestors of a path, shallowest first, without `/`. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let q = parentOf(path); q !== '/'; q = parentOf(q)) out.unshift(q);
  return out;
}

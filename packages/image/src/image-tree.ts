import type { TreeEntry, TreeListing } from './listings.js';

/** Read access to the tree inside an image, without mounting it. */
export interface ImageTree {
  /** The object at an absolute path, symbolic links not followed; undefined when there is none. */
  entry(path: string): Promise<Pick<TreeEntry, 'type' | 'target'> | undefined>;
  /** The text of the regular file (or tar hard link) at a path {@link entry} found. */
  read(path: string): Promise<string>;
}

/** How many symbolic links one lookup may follow, as Linux's own limit (ELOOP). */
const MAX_LINKS = 40;

/**
 * The text of a regular file of the image, symbolic links followed in every component of its path
 * and resolved inside the image (an absolute target starts again at the image's root, `..` stops
 * at it). Undefined when the path leads nowhere, loops, or ends at something that is not a file.
 */
export async function readTreeFile(tree: ImageTree, path: string): Promise<string | undefined> {
  const resolved: string[] = [];
  const pending = path.split('/');
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = `/${[...resolved, part].join('/')}`;
    const entry = await tree.entry(candidate);
    if (entry === undefined) return undefined;
    if (entry.type === 'link') {
      if (++links > MAX_LINKS || entry.target === undefined) return undefined;
      if (entry.target.startsWith('/')) resolved.length = 0;
      pending.unshift(...entry.target.split('/'));
      continue;
    }
    if (pending.some((rest) => rest !== '' && rest !== '.') && entry.type !== 'dir') return undefined;
    resolved.push(part);
    if (pending.every((rest) => rest === '' || rest === '.')) {
      return entry.type === 'file' || entry.type === 'hardlink' ? tree.read(candidate) : undefined;
    }
  }
  return undefined;
}

/** A tree whose entries come from a listing (squashfs, tar), and whose files from `readMember`. */
export function listingTree(listing: TreeListing, readMember: (entry: TreeEntry) => Promise<string>): ImageTree {
  return {
    entry: async (path) => listing.entries.get(path),
    read: async (path) => {
      const entry = listing.entries.get(path);
      if (entry === undefined) throw new Error(`${path} is not in the listing`);
      return readMember(entry);
    },
  };
}

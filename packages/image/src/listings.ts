/** One object of an image's tree, as a listing shows it (links not followed). */
export interface TreeEntry {
  readonly type: 'file' | 'dir' | 'link' | 'hardlink' | 'other';
  /** Bytes of a regular file (0 for the rest). */
  readonly size: number;
  /** Where a symbolic link points, or which member a hard link names (tar). */
  readonly target?: string | undefined;
  /** The name as the archive holds it (for tar, what to ask `tar -x` for). */
  readonly member: string;
}

/** An image's tree by absolute path (`/`, `/etc`, `/etc/os-release`), and the bytes it holds. */
export interface TreeListing {
  readonly entries: ReadonlyMap<string, TreeEntry>;
  /** Regular files' bytes, each rounded up to a 4 KiB block, plus a block per directory: an estimate. */
  readonly dataBytes: number;
}

const BLOCK = 4096;
// `ls -l`-style lines of `unsquashfs -lln` and `tar -tv --numeric-owner`: mode, uid/gid, size (or
// "major, minor" for devices), date, time, name.
const LINE = /^(\S)\S{9}\s+\d+\/\d+\s+(\d+|\d+,\s*\d+)\s+\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?\s(.*)$/;

/** Parses `unsquashfs -lln IMAGE`, whose names start with `squashfs-root`. */
export function parseUnsquashfsListing(stdout: string): TreeListing {
  return build(stdout, (name) =>
    name === 'squashfs-root' ? '/' : name.startsWith('squashfs-root/') ? name.slice('squashfs-root'.length) : undefined,
  );
}

/** Parses `tar -tv --numeric-owner`: names with or without `./` (or `/`), directories ending in `/`. */
export function parseTarListing(stdout: string): TreeListing {
  return build(stdout, (name) => {
    const path = `/${name.replace(/^(?:\.\/|\/)+/, '').replace(/\/+$/, '')}`;
    return path === '/.' ? '/' : path;
  });
}

function build(stdout: string, toPath: (name: string) => string | undefined): TreeListing {
  const entries = new Map<string, TreeEntry>();
  let dataBytes = 0;
  for (const line of stdout.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, typeChar, sizeField, rest] = match as unknown as [string, string, string, string];
    const type = entryType(typeChar);
    let member = rest;
    let target: string | undefined;
    const separator = type === 'link' ? ' -> ' : type === 'hardlink' ? ' link to ' : undefined;
    if (separator !== undefined && rest.includes(separator)) {
      member = rest.slice(0, rest.indexOf(separator));
      target = rest.slice(rest.indexOf(separator) + separator.length);
    }
    const path = toPath(member);
    if (path === undefined) continue;
    const size = type === 'file' ? Number(sizeField) : 0;
    if (type === 'file') dataBytes += Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'dir') dataBytes += BLOCK;
    entries.set(path, { type, size, member, ...(target === undefined ? {} : { target }) });
  }
  return { entries, dataBytes };
}

function entryType(typeChar: string): TreeEntry['type'] {
  switch (typeChar) {
    case '-':
      return 'file';
    case 'd':
      return 'dir';
    case 'l':
      return 'link';
    case 'h':
      return 'hardlink';
    default:
      return 'other';
  }
}

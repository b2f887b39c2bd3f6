import type { OperationContext } from '../events.js';

/** One line of the mount table. */
export interface MountEntry {
  /** The mount point. */
  readonly target: string;
  /** What is mounted there (a device path, `tmpfs`, …). */
  readonly source: string;
  readonly fstype: string;
  /** The mount's options, VFS and super block ones together (`rw`, `discard`, …). */
  readonly options: readonly string[];
  readonly device: { readonly major: number; readonly minor: number } | undefined;
}

export interface MountRequest {
  /** A device, or with `bind` a directory. */
  readonly source: string;
  /** Made (with its parents) when missing. */
  readonly directory: string;
  readonly readOnly: boolean;
  /** More mount options (`discard`). */
  readonly options?: readonly string[] | undefined;
  /** A bind mount of the directory `source` (read-only as asked). */
  readonly bind?: boolean | undefined;
}

/**
 * The host's mount table and mounts that outlive the operation (a layer mounted for a look, a
 * separate volume put in place). imgbased's own short-lived mounts are the FilesystemDriver's.
 */
export interface HostMounts {
  /** Every mount of the host, in mount order. */
  list(context?: OperationContext): Promise<MountEntry[]>;
  mount(request: MountRequest, context?: OperationContext): Promise<void>;
  unmount(directory: string, context?: OperationContext): Promise<void>;
}
export const HostMounts = Symbol.for('imgbased.HostMounts');

/**
 * Files of the running system or of a mounted volume, for the admin verbs: the motd line, mount
 * units, fstab, and the data a new separate volume takes over. Writes never follow a symlink at the
 * last component and replace a file whole (write a temporary file, rename).
 */
export interface HostFiles {
  /** A text file's content; undefined when it does not exist. */
  readText(path: string, context?: OperationContext): Promise<string | undefined>;
  /** Writes a whole file (mode 0644), making its parent directories. */
  writeText(path: string, content: string, context?: OperationContext): Promise<void>;
  /** A symbolic link at `path` to `target`, replacing what is there. */
  symlink(target: string, path: string, context?: OperationContext): Promise<void>;
  /** Removes a file or a symbolic link; nothing when it is not there. */
  remove(path: string, context?: OperationContext): Promise<void>;
  /** Makes a directory with its parents (mode 0755); nothing when it is there. */
  makeDirectory(path: string, context?: OperationContext): Promise<void>;
  /** The names in a directory; [] when it does not exist. */
  list(path: string, context?: OperationContext): Promise<string[]>;
  /** Copies everything below the directory `from` into the directory `to`: owners, modes, times, links, xattrs. */
  copyContents(from: string, to: string, context?: OperationContext): Promise<void>;
  /** Removes everything below the directory `path`, never crossing into another file system; keeps `path`. */
  clearDirectory(path: string, context?: OperationContext): Promise<void>;
}
export const HostFiles = Symbol.for('imgbased.HostFiles');

export type TreeEntryType = 'file' | 'directory' | 'symlink' | 'other';

/** One path of a file tree, as lstat(2) sees it. */
export interface TreeEntry {
  /** Absolute inside the tree (`/etc/hosts`). */
  readonly path: string;
  readonly type: TreeEntryType;
  /** Permission bits with setuid, setgid and sticky (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Modification time in ms (with fraction), for the quick check of unchanged files. */
  readonly mtimeMs: number;
  /** A symbolic link's target. */
  readonly target?: string | undefined;
  /** Extended attributes, name to hex value; undefined when they cannot be read. */
  readonly xattrs?: Readonly<Record<string, string>> | undefined;
  /** For a device node, fifo or socket: what it is (`char 1:3`, `fifo`). */
  readonly special?: string | undefined;
}

/** Reads two trees for `layer --diff`: entries, content comparison and unified diffs of text. */
export interface TreeReader {
  /** Every path below `root` (not `root` itself), sorted, never crossing into another file system. */
  list(root: string, context?: OperationContext): Promise<TreeEntry[]>;
  /** True when the two regular files hold the same bytes. */
  sameContent(a: string, b: string, context?: OperationContext): Promise<boolean>;
  /**
   * A unified diff of two text files, with `labels` as their names; undefined when either holds
   * binary data (a NUL byte) or is too big to show.
   */
  textDiff(
    a: string,
    b: string,
    labels: { readonly a: string; readonly b: string },
    context?: OperationContext,
  ): Promise<string | undefined>;
}
export const TreeReader = Symbol.for('imgbased.TreeReader');

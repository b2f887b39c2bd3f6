import type { OperationContext } from '../events.js';

export interface MountedRoot {
  /** What is mounted on / (a device path, or e.g. "overlay"). */
  readonly source: string;
  readonly device: { readonly major: number; readonly minor: number } | undefined;
}

/** What imgbased needs to know about the running system itself (a port: core probes nothing on its own). */
export interface HostInfo {
  /** The file system mounted on /. */
  mountedRoot(context?: OperationContext): Promise<MountedRoot>;
  /** The block device behind a mounted path (for `layout --init --from /`). */
  deviceOfMount(path: string, context?: OperationContext): Promise<MountedRoot>;
  /** The running kernel's release, as `uname -r` prints it. */
  runningKernel(context?: OperationContext): Promise<string>;
  /** The names in a directory; [] when it does not exist. */
  listDirectory(path: string, context?: OperationContext): Promise<string[]>;
  /** The type of the file system holding `path` (`ext4`, `vfat`…); undefined when it cannot be told. */
  filesystemType(path: string, context?: OperationContext): Promise<string | undefined>;
  /**
   * Free and total bytes of the file system holding `path` (statfs); undefined when it cannot be told.
   * Optional: without it, an update's space plan does not check the boot partition.
   */
  spaceOf?(path: string, context?: OperationContext): Promise<{ freeBytes: number; sizeBytes: number } | undefined>;
}
export const HostInfo = Symbol.for('imgbased.HostInfo');

export interface HeldLock {
  release(): Promise<void>;
}

/** Who holds the operation lock, as `imgbase check` and `recover --list` report it. */
export interface LockState {
  /** The lock file. */
  readonly path: string;
  /** `pid N: purpose`, as the holder wrote it. */
  readonly holder: string;
  /** The holder is gone: the next changing verb takes the lock over. */
  readonly stale: boolean;
}

/** Serialises every mutating operation across processes (CLI and daemon alike). */
export interface OperationLock {
  /** Takes the lock or fails at once with LockedError. */
  acquire(purpose: string): Promise<HeldLock>;
  /** Who holds the lock now; undefined when nobody does. Optional: without it, no stale lock is reported. */
  inspect?(): Promise<LockState | undefined>;
}
export const OperationLock = Symbol.for('imgbased.OperationLock');

import type { CommandResult, CommandRunner } from '../contracts/command-runner.js';
import type { FilesystemDriver, FilesystemInfo, LeftoverMount } from '../contracts/filesystem.js';
import type { HeldLock, HostInfo, MountedRoot, OperationLock } from '../contracts/host.js';
import { LockedError } from '../errors/index.js';
import type { OperationContext } from '../events.js';

/** Records what the engine asked of the file system; `fail` makes one method throw. */
export class RecordingFilesystem implements FilesystemDriver {
  readonly type = 'ext4';
  readonly calls: string[] = [];
  readonly images = new Map<string, FilesystemInfo>();
  fail: { method: string; error: Error } | undefined;
  /** Called inside a method, e.g. to abort a signal mid-operation. */
  during: ((method: string) => void) | undefined;

  private record(method: string, detail: string): void {
    this.calls.push(`${method} ${detail}`);
    this.during?.(method);
    if (this.fail?.method === method) throw this.fail.error;
  }

  async probe(device: string): Promise<FilesystemInfo | undefined> {
    return this.images.get(device);
  }
  async create(device: string): Promise<void> {
    this.record('create', device);
  }
  async writeImage(image: string, device: string): Promise<void> {
    this.record('writeImage', `${image} ${device}`);
  }
  async checkImage(image: string): Promise<void> {
    this.record('checkImage', image);
  }
  async regenerateUuid(device: string): Promise<void> {
    this.record('regenerateUuid', device);
  }
  async resize(device: string): Promise<void> {
    this.record('resize', device);
  }
  /** Every mount, with its mode. */
  readonly mounts: { device: string; readOnly: boolean }[] = [];
  async withMounted<T>(device: string, o: { readOnly: boolean }, use: (directory: string) => Promise<T>): Promise<T> {
    this.mounts.push({ device, readOnly: o.readOnly });
    this.record('mount', device);
    return use('/mnt/fake');
  }
  async trim(mountPoint: string): Promise<void> {
    this.record('trim', mountPoint);
  }
  /** Mounts a killed process left (as `withMounted` would have made them). */
  readonly leftovers: LeftoverMount[] = [];
  async leftoverMounts(): Promise<LeftoverMount[]> {
    return structuredClone(this.leftovers);
  }
  async releaseMount(mount: LeftoverMount): Promise<void> {
    this.record('unmount', mount.directory);
    const index = this.leftovers.findIndex((m) => m.directory === mount.directory);
    if (index >= 0) this.leftovers.splice(index, 1);
  }
}

export class FixedHost implements HostInfo {
  constructor(public root: MountedRoot = { source: 'overlay', device: undefined }) {}
  async mountedRoot(): Promise<MountedRoot> {
    return this.root;
  }
  async deviceOfMount(): Promise<MountedRoot> {
    return this.root;
  }
  /** The running kernel's release. */
  kernel = '6.1.0-test-amd64';
  /** Directory listings by path; a path not here lists as empty (missing). */
  directories: Record<string, string[]> = {};
  /** File system types by path prefix (longest wins); default ext4. */
  filesystems: Record<string, string> = {};
  async runningKernel(): Promise<string> {
    return this.kernel;
  }
  async listDirectory(path: string): Promise<string[]> {
    return [...(this.directories[path] ?? [])];
  }
  /** Free and total bytes by mount point; a path not here cannot be told (undefined). */
  spaces: Record<string, { freeBytes: number; sizeBytes: number }> = {};
  async spaceOf(path: string): Promise<{ freeBytes: number; sizeBytes: number } | undefined> {
    return this.spaces[path];
  }
  async filesystemType(path: string): Promise<string | undefined> {
    const match = Object.keys(this.filesystems)
      .filter((p) => path === p || path.startsWith(`${p.replace(/\/$/, '')}/`))
      .sort((a, b) => b.length - a.length)[0];
    return match === undefined ? 'ext4' : this.filesystems[match];
  }
}

/** An in-process lock with the real lock's contract: a second acquire fails with LockedError. */
export class MemoryLock implements OperationLock {
  holder: string | undefined;
  readonly purposes: string[] = [];
  async acquire(purpose: string): Promise<HeldLock> {
    if (this.holder !== undefined) throw new LockedError('(memory)', this.holder);
    this.holder = purpose;
    this.purposes.push(purpose);
    return {
      release: async () => {
        this.holder = undefined;
      },
    };
  }
}

/** A runner that refuses to run anything, for code under test that must not run commands. */
export class NullRunner implements CommandRunner {
  async run(): Promise<CommandResult> {
    throw new Error('NullRunner runs nothing');
  }
}

export type { OperationContext };

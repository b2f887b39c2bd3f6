import type {
  HostFiles,
  HostMounts,
  MountEntry,
  MountRequest,
  TreeEntry,
  TreeReader,
} from '../contracts/host-admin.js';
import type { OperationContext } from '../events.js';
import { RecordingFilesystem } from './fakes.js';

/** A mount table in memory; a dry run changes nothing. */
export class MemoryMounts implements HostMounts {
  entries: MountEntry[] = [];
  readonly log: string[] = [];
  async list(): Promise<MountEntry[]> {
    return structuredClone(this.entries);
  }
  async mount(request: MountRequest, context?: OperationContext): Promise<void> {
    this.log.push(`mount ${request.source} ${request.directory}${request.readOnly ? ' ro' : ' rw'}`);
    if (context?.dryRun) return;
    this.entries.push({
      target: request.directory,
      source: request.source,
      fstype: 'ext4',
      options: [request.readOnly ? 'ro' : 'rw', ...(request.options ?? [])],
      device: undefined,
    });
  }
  async unmount(directory: string, context?: OperationContext): Promise<void> {
    this.log.push(`umount ${directory}`);
    if (context?.dryRun) return;
    const at = this.entries.findLastIndex((m) => m.target === directory);
    if (at < 0) throw new Error(`not mounted: ${directory}`);
    this.entries.splice(at, 1);
  }
}

/** Files in memory: regular files by path, symbolic links, directories. */
export class MemoryFiles implements HostFiles {
  readonly files = new Map<string, string>();
  readonly links = new Map<string, string>();
  readonly directories = new Set<string>();
  readonly log: string[] = [];
  async readText(path: string): Promise<string | undefined> {
    return this.files.get(path);
  }
  async writeText(path: string, content: string): Promise<void> {
    this.log.push(`write ${path}`);
    this.files.set(path, content);
  }
  async symlink(target: string, path: string): Promise<void> {
    this.log.push(`symlink ${path}`);
    this.links.set(path, target);
  }
  async remove(path: string): Promise<void> {
    this.log.push(`remove ${path}`);
    this.files.delete(path);
    this.links.delete(path);
  }
  async makeDirectory(path: string): Promise<void> {
    this.directories.add(path);
  }
  async list(path: string): Promise<string[]> {
    const names = new Set<string>();
    for (const key of [...this.files.keys(), ...this.links.keys(), ...this.directories]) {
      if (key.startsWith(`${path}/`)) names.add(key.slice(path.length + 1).split('/')[0]!);
    }
    return [...names];
  }
  async copyContents(from: string, to: string): Promise<void> {
    this.log.push(`copy ${from} ${to}`);
    for (const [key, value] of [...this.files])
      if (key.startsWith(`${from}/`)) this.files.set(to + key.slice(from.length), value);
  }
  async clearDirectory(path: string): Promise<void> {
    this.log.push(`clear ${path}`);
    for (const map of [this.files, this.links])
      for (const key of [...map.keys()]) if (key.startsWith(`${path}/`)) map.delete(key);
  }
}

/** Trees by root directory, with file contents by full path. */
export class MemoryTrees implements TreeReader {
  readonly trees: Record<string, TreeEntry[]> = {};
  readonly contents: Record<string, string> = {};
  async list(root: string): Promise<TreeEntry[]> {
    return structuredClone(this.trees[root] ?? []);
  }
  async sameContent(a: string, b: string): Promise<boolean> {
    return this.contents[a] === this.contents[b];
  }
  async textDiff(a: string, b: string, labels: { a: string; b: string }): Promise<string | undefined> {
    return `--- ${labels.a}\n+++ ${labels.b}\n-${this.contents[a]}\n+${this.contents[b]}\n`;
  }
}

/** A RecordingFilesystem that mounts each device on a directory of its own: `/mnt` + the device path. */
export class DeviceDirFilesystem extends RecordingFilesystem {
  override async withMounted<T>(
    device: string,
    o: { readOnly: boolean },
    use: (directory: string) => Promise<T>,
  ): Promise<T> {
    await super.withMounted(device, o, async () => undefined);
    return use(`/mnt${device}`);
  }
}

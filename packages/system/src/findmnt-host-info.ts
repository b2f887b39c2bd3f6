import { readdir, statfs } from 'node:fs/promises';
import { release } from 'node:os';
import {
  CommandFailedError,
  CommandNotFoundError,
  CommandRunner,
  type HostInfo,
  InternalError,
  type MountedRoot,
  type OperationContext,
} from '@imgbased/core';
import { inject, injectable } from 'tsyringe';

/**
 * HostInfo from util-linux `findmnt` (mounts, file system types) and Node itself (the running kernel,
 * directory listings). SOURCE is read with `--nofsroot`, so a bind mount or a btrfs subvolume reports
 * its device without the `[/subdir]` suffix.
 */
@injectable()
export class FindmntHostInfo implements HostInfo {
  constructor(@inject(CommandRunner) private readonly runner: CommandRunner) {}

  mountedRoot(context?: OperationContext): Promise<MountedRoot> {
    return this.query(['--mountpoint', '/'], context);
  }

  deviceOfMount(path: string, context?: OperationContext): Promise<MountedRoot> {
    return this.query(['--target', path], context);
  }

  /** The kernel release, as `uname -r` prints it (the same uname(2) field). */
  async runningKernel(): Promise<string> {
    return release();
  }

  async listDirectory(path: string): Promise<string[]> {
    try {
      return await readdir(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw error;
    }
  }

  async filesystemType(path: string, context?: OperationContext): Promise<string | undefined> {
    const argv = ['findmnt', '-n', '-o', 'FSTYPE', '--target', path];
    try {
      const result = await this.runner.run({ argv, mutates: false }, context);
      return result.stdout.trim().split('\n').at(-1)?.trim() || undefined;
    } catch (error) {
      if (error instanceof CommandFailedError || error instanceof CommandNotFoundError) return undefined;
      throw error;
    }
  }

  /** statfs(2) of the file system holding `path`: what an unprivileged user may use counts as free. */
  async spaceOf(path: string): Promise<{ freeBytes: number; sizeBytes: number } | undefined> {
    try {
      const stats = await statfs(path);
      return { freeBytes: stats.bavail * stats.bsize, sizeBytes: stats.blocks * stats.bsize };
    } catch {
      return undefined;
    }
  }

  private async query(selector: readonly string[], context?: OperationContext): Promise<MountedRoot> {
    const argv = ['findmnt', '--json', '--nofsroot', '--output', 'SOURCE,MAJ:MIN', ...selector];
    const result = await this.runner.run({ argv, mutates: false }, context);
    return parseFindmnt(result.stdout, argv);
  }
}

/** Parses `findmnt --json --output SOURCE,MAJ:MIN`; of several matches (stacked mounts) the last is the visible one. */
export function parseFindmnt(stdout: string, argv: readonly string[] = ['findmnt']): MountedRoot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (error) {
    throw new InternalError(`'${argv.join(' ')}' printed something that is not JSON`, { cause: error });
  }
  const filesystems = (parsed as { filesystems?: unknown } | null)?.filesystems;
  const entry = Array.isArray(filesystems) ? (filesystems.at(-1) as Record<string, unknown> | undefined) : undefined;
  if (entry === undefined || typeof entry.source !== 'string') {
    throw new InternalError(`'${argv.join(' ')}' found no mounted file system`);
  }
  return { source: entry.source, device: parseMajorMinor(entry['maj:min']) };
}

function parseMajorMinor(value: unknown): MountedRoot['device'] {
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+):(\d+)\s*$/.exec(value);
  if (match === null) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]) };
}

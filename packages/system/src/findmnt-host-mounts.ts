import { mkdir } from 'node:fs/promises';
import {
  CommandRunner,
  type HostMounts,
  InternalError,
  type MountEntry,
  type MountRequest,
  type OperationContext,
} from '@imgbased/core';
import { inject, injectable } from 'tsyringe';

/**
 * The mount table from util-linux `findmnt` (SOURCE without a bind mount's `[/subdir]`, as
 * FindmntHostInfo reads it), and mounts with `mount`/`umount`: commands a dry run only records.
 */
@injectable()
export class FindmntHostMounts implements HostMounts {
  constructor(@inject(CommandRunner) private readonly runner: CommandRunner) {}

  async list(context?: OperationContext): Promise<MountEntry[]> {
    const argv = ['findmnt', '--json', '--list', '--nofsroot', '--output', 'TARGET,SOURCE,FSTYPE,OPTIONS,MAJ:MIN'];
    const result = await this.runner.run({ argv, mutates: false }, context);
    return parseMountTable(result.stdout, argv);
  }

  async mount(request: MountRequest, context?: OperationContext): Promise<void> {
    if (!context?.dryRun) await mkdir(request.directory, { recursive: true, mode: 0o755 });
    const options = [request.readOnly ? 'ro' : 'rw', ...(request.options ?? [])].join(',');
    const argv = request.bind
      ? ['mount', '--bind', '-o', options, request.source, request.directory]
      : ['mount', '-o', options, request.source, request.directory];
    await this.runner.run({ argv, mutates: true }, context);
  }

  async unmount(directory: string, context?: OperationContext): Promise<void> {
    await this.runner.run({ argv: ['umount', directory], mutates: true }, context);
  }
}

/** Parses `findmnt --json --list --output TARGET,SOURCE,FSTYPE,OPTIONS,MAJ:MIN`. */
export function parseMountTable(stdout: string, argv: readonly string[] = ['findmnt']): MountEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (error) {
    throw new InternalError(`'${argv.join(' ')}' printed something that is not JSON`, { cause: error });
  }
  const filesystems = (parsed as { filesystems?: unknown } | null)?.filesystems;
  if (!Array.isArray(filesystems)) throw new InternalError(`'${argv.join(' ')}' listed no file systems`);
  return filesystems.map((raw: Record<string, unknown>) => {
    const device = /^\s*(\d+):(\d+)\s*$/.exec(String(raw['maj:min'] ?? ''));
    return {
      target: String(raw.target ?? ''),
      source: String(raw.source ?? ''),
      fstype: String(raw.fstype ?? ''),
      options: String(raw.options ?? '')
        .split(',')
        .filter(Boolean),
      device: device ? { major: Number(device[1]), minor: Number(device[2]) } : undefined,
    };
  });
}

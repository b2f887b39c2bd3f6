import {
  asBootWriteError,
  BootConfigInvalidError,
  type BootFiles,
  CommandFailedError,
  CommandNotFoundError,
  type CommandResult,
  type CommandRunner,
  type OperationContext,
} from '@imgbased/core';

/** Debian and SUSE name it grub-editenv, Fedora and RHEL grub2-editenv. */
const EDITENV_NAMES = ['grub-editenv', 'grub2-editenv'];

/** The size grub-editenv creates a block with, which grub rewrites in place. */
const ENVIRONMENT_BLOCK_BYTES = 1024;

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

/**
 * grub's environment block (`saved_entry` default, `next_entry` one-shot), through grub-editenv.
 * grub-editenv rewrites the block in place, so edits go to a copy that is then renamed over the block;
 * where the block is a symlink (RHEL's UEFI layout: grub2/grubenv -> ../efi/EFI/redhat/grubenv), over
 * the link's target, so the link stays.
 */
export class GrubEnvironment {
  private program: string | undefined;

  constructor(
    private readonly runner: CommandRunner,
    private readonly files: BootFiles,
    /** `auto` or the program to run. */
    private readonly editenv: string,
  ) {}

  /** The block's variables; {} when there is none. A block grub-editenv cannot read is refused. */
  async list(path: string, context?: OperationContext): Promise<Record<string, string>> {
    const block = await this.files.read(path);
    if (block === undefined) return {};
    // grub-editenv lists a short block but cannot set a variable in it: refuse it before any write.
    const bytes = Buffer.byteLength(block);
    if (bytes < ENVIRONMENT_BLOCK_BYTES)
      throw new BootConfigInvalidError(path, `${bytes} bytes, not grub's ${ENVIRONMENT_BLOCK_BYTES}-byte block`);
    let listed: CommandResult;
    try {
      listed = await this.run([path, 'list'], false, context);
    } catch (error) {
      if (error instanceof CommandFailedError) {
        throw new BootConfigInvalidError(path, error.message.replace(/^.*failed[^:]*: ?/, '') || 'unreadable');
      }
      throw error;
    }
    const variables: Record<string, string> = {};
    for (const line of listed.stdout.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) variables[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return variables;
  }

  /** Sets variables (`name=value`) on a copy of the block, then renames the copy over the block's target. */
  async set(path: string, assignments: readonly string[], context?: OperationContext): Promise<void> {
    const target = (await this.files.resolve?.(path)) ?? path;
    const directory = dirOf(target);
    const temporary = `${directory}/.grubenv.imgbased-new`;
    try {
      const current = await this.files.read(target);
      await this.files.remove(temporary);
      if (current === undefined) await this.run([temporary, 'create'], true, context);
      else await this.files.writeNew(temporary, current);
      await this.run([temporary, 'set', ...assignments], true, context);
      await this.files.rename(temporary, target);
      await this.files.syncDirectory(directory);
    } catch (error) {
      await this.files.remove(temporary).catch(() => undefined);
      throw asBootWriteError(error, path);
    }
  }

  /** Runs grub-editenv; with `auto`, the first name that is installed (remembered once found). */
  private async run(args: readonly string[], mutates: boolean, context?: OperationContext): Promise<CommandResult> {
    if (this.program !== undefined) return this.runner.run({ argv: [this.program, ...args], mutates }, context);
    const candidates = this.editenv === 'auto' ? EDITENV_NAMES : [this.editenv];
    for (const program of candidates) {
      try {
        const result = await this.runner.run({ argv: [program, ...args], mutates }, context);
        this.program = program;
        return result;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'E_COMMAND_NOT_FOUND') {
          this.program = program;
          throw error;
        }
      }
    }
    throw new CommandNotFoundError(candidates.join(' or '));
  }
}

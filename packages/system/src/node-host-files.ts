import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CommandRunner, type HostFiles, type OperationContext, UnsafePathError } from '@imgbased/core';
import { inject, injectable } from 'tsyringe';

/**
 * HostFiles with Node's fs, and cp(1) and find(1) through the CommandRunner for whole trees. Paths
 * may lie in a layer mounted for the while, whose symlinks point into the running system: a write
 * never passes a symlink (every existing component is lstat-checked, the last one is replaced, never
 * followed). The engine makes no write in a dry run; the commands here are recorded then anyway.
 */
@injectable()
export class NodeHostFiles implements HostFiles {
  constructor(@inject(CommandRunner) private readonly runner: CommandRunner) {}

  async readText(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  async writeText(path: string, content: string): Promise<void> {
    await this.makeDirectory(dirname(path));
    const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.imgbased-new`);
    const handle = await open(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path).catch(async (error) => {
      await unlink(temp).catch(() => undefined);
      throw error;
    });
  }

  async symlink(target: string, path: string): Promise<void> {
    await this.makeDirectory(dirname(path));
    await rm(path, { force: true });
    await symlink(target, path);
  }

  async remove(path: string): Promise<void> {
    await realParents(path);
    await rm(path, { force: true });
  }

  async makeDirectory(path: string): Promise<void> {
    let current = '/';
    for (const part of path.split('/').filter(Boolean)) {
      current = join(current, part);
      const st = await lstat(current).catch(() => undefined);
      if (st === undefined) await mkdir(current, { mode: 0o755 });
      else if (!st.isDirectory()) throw new UnsafePathError(path, `${current} is not a directory (a symlink?)`);
    }
  }

  async list(path: string): Promise<string[]> {
    try {
      return await readdir(path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
      throw error;
    }
  }

  async copyContents(from: string, to: string, context?: OperationContext): Promise<void> {
    await realParents(`${from}/.`);
    // `from/.` copies what is inside, and the directory's own owner, mode and times onto `to`.
    await this.runner.run({ argv: ['cp', '-a', '--', `${from}/.`, `${to}/`], mutates: true }, context);
  }

  async clearDirectory(path: string, context?: OperationContext): Promise<void> {
    await realParents(`${path}/.`);
    await this.runner.run({ argv: ['find', path, '-xdev', '-mindepth', '1', '-delete'], mutates: true }, context);
  }
}

/** Every existing component of `path` up to its last is a real directory. */
async function realParents(path: string): Promise<void> {
  let current = '/';
  for (const part of path.split('/').filter(Boolean).slice(0, -1)) {
    current = join(current, part);
    const st = await lstat(current).catch(() => undefined);
    if (st === undefined) return;
    if (!st.isDirectory()) throw new UnsafePathError(path, `${current} is not a directory (a symlink?)`);
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

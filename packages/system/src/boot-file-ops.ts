import { constants } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import type { BootFileOps } from '@imgbased/core';
import { failpoint } from './failpoint.js';

/**
 * Node's fs behind core's crash-safe file steps: every new file and directory is fsynced. After each
 * changing step a crash test may kill the process (`boot.<step>`, see failpoint.ts; off in production).
 */
export const nodeBootFileOps: BootFileOps = {
  async read(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  },
  async list(directory) {
    try {
      return await readdir(directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  },
  async exists(path) {
    return stat(path).then(
      () => true,
      () => false,
    );
  },
  async writeNew(path, data) {
    const handle = await open(path, 'wx', 0o644);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    failpoint('boot.writeNew', path);
  },
  async copyNew(from, to) {
    await copyFile(from, to, constants.COPYFILE_EXCL);
    const handle = await open(to, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    failpoint('boot.copyNew', to);
  },
  async mkdir(directory) {
    await mkdir(directory, { recursive: true, mode: 0o755 });
    failpoint('boot.mkdir', directory);
  },
  async rename(from, to) {
    await rename(from, to);
    failpoint('boot.rename', to);
  },
  async syncDirectory(directory) {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } catch (error) {
      // Some file systems (vfat on older kernels) refuse fsync on a directory: nothing more to do there.
      if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
    } finally {
      await handle.close();
    }
    failpoint('boot.syncDirectory', directory);
  },
  async remove(path) {
    await rm(path, { recursive: true, force: true });
    failpoint('boot.remove', path);
  },
  async resolve(path) {
    try {
      return await realpath(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return path;
      throw error;
    }
  },
};

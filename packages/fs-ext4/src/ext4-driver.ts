import { mkdir, mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import {
  CommandRunner,
  emit,
  type FilesystemDriver,
  type FilesystemInfo,
  ImageInvalidError,
  InternalError,
  type LeftoverMount,
  type OperationContext,
  SizeInvalidError,
} from '@imgbased/core';
import { inject, injectable } from 'tsyringe';
import { copyRanges } from './copy-ranges.js';
import { fsckProblem } from './fsck-problem.js';
import { findLeftoverMounts, MOUNT_DIR_PREFIX, mountDirPrefix } from './leftover-mounts.js';
import { joinNearRanges, parseUsedBlocks, type UsedBlocks } from './used-blocks.js';

/** e2fsck's exit codes that leave a file system fit for use: 0 clean, 1 errors corrected. */
const FSCK_OK = [0, 1] as const;
/** The size of each read and write of an image copy: large I/O is what makes the copy as fast as cp. */
export const COPY_CHUNK_BYTES = 4 * 1024 ** 2;
/** Runs of blocks in use this close are copied as one, with the free blocks between them. */
const JOIN_GAP_BYTES = 64 * 1024;
/** How long to wait before the one retry of an unmount that found the file system busy. */
const UMOUNT_RETRY_DELAY_MS = 500;

/**
 * The ext4 file system of bases and layers, through e2fsprogs and util-linux.
 *
 * Mounts go on `<tmpdir>/imgbased-mnt-<pid>-XXXXXX/root`, the parent made with mkdtemp (mode 0700)
 * so that no other user can reach into the mounted file system; the name lets recovery find and
 * unmount what a killed process left mounted (`leftoverMounts`, `releaseMount`). In a dry run the mount is planned, not done: no directory is
 * made, and use() gets a placeholder path that does not exist (see {@link Ext4Driver.withMounted}).
 */
@injectable()
export class Ext4Driver implements FilesystemDriver {
  readonly type = 'ext4';

  constructor(@inject(CommandRunner) private readonly runner: CommandRunner) {}

  async probe(device: string, context?: OperationContext): Promise<FilesystemInfo | undefined> {
    // -p probes the device itself, never blkid's cache, which can be stale right after mkfs or tune2fs.
    const result = await this.runner.run(
      {
        argv: ['blkid', '-p', '-o', 'export', '-s', 'TYPE', '-s', 'UUID', '-s', 'LABEL', device],
        mutates: false,
        okExitCodes: [0, 2],
      },
      context,
    );
    if (result.exitCode === 2) return undefined; // nothing recognised on the device
    const tags = parseBlkidExport(result.stdout);
    const type = tags.get('TYPE');
    if (type === undefined) return undefined;
    return { type, uuid: tags.get('UUID'), label: tags.get('LABEL') };
  }

  async create(device: string, options: { readonly label?: string }, context?: OperationContext): Promise<void> {
    const label = options.label === undefined ? [] : ['-L', options.label];
    await this.runner.run(
      { argv: ['mkfs.ext4', '-q', '-F', '-E', 'discard', ...label, device], mutates: true },
      context,
    );
  }

  /**
   * Writes an ext4 image file onto a device: the blocks its bitmaps mark in use (from `dumpe2fs`),
   * copied in large chunks to the same offsets; the rest of the device is never written, so a thin
   * volume stays thin (a new one reads zeros there, and a file system never reads its free blocks).
   * Then grows the file system when the device is larger: a full check and resize2fs cost seconds
   * for nothing otherwise. The image must be a consistent file system (the installer checks it with
   * `e2fsck -f -n` first): a block in use that its bitmap calls free would not be copied.
   * Checks first that the image's file system fits the device. In a dry run, where the device may
   * only be planned, the copy is reported as a step and the growth is planned.
   */
  async writeImage(image: string, device: string, context?: OperationContext): Promise<void> {
    if (context?.dryRun) {
      emit(context, {
        type: 'step',
        step: 'copy-blocks',
        message: `Copying the blocks in use of ${image} to ${device}`,
      });
      await this.resize(device, undefined, context);
      return;
    }
    const blocks = await this.usedBlocks(image, context);
    const imageBytes = blocks.blockCount * blocks.blockSize;
    const deviceBytes = await this.deviceSize(device, context);
    if (imageBytes > deviceBytes) {
      throw new ImageInvalidError(
        image,
        `its file system (${imageBytes} bytes) is larger than ${device} (${deviceBytes} bytes)`,
      );
    }
    await copyRanges(image, device, joinNearRanges(blocks.used, JOIN_GAP_BYTES), {
      chunkBytes: COPY_CHUNK_BYTES,
      signal: context?.signal,
    });
    if (deviceBytes - imageBytes >= blocks.blockSize) await this.resize(device, undefined, context);
  }

  async checkImage(image: string, context?: OperationContext): Promise<void> {
    // -n opens the image read-only and answers "no" to every question: exit 0 only when it is clean.
    const fsck = await this.runner.run(
      { argv: ['e2fsck', '-f', '-n', image], mutates: false, okExitCodes: [0, 1, 2, 4, 8, 12, 16, 32, 128] },
      context,
    );
    if (fsck.exitCode === 0) return;
    throw new ImageInvalidError(image, `e2fsck -n finds its file system damaged: ${fsckProblem(fsck)}`);
  }

  async regenerateUuid(device: string, context?: OperationContext): Promise<void> {
    // tune2fs changes the UUID of a metadata_csum file system without the csum_seed feature (the
    // default of mke2fs 1.47) only when it is freshly checked, rewriting every checksum; it asks for
    // no confirmation as its stdin is not a terminal.
    await this.fsck(device, context);
    await this.runner.run({ argv: ['tune2fs', '-U', 'random', device], mutates: true }, context);
  }

  async resize(device: string, sizeBytes: number | undefined, context?: OperationContext): Promise<void> {
    const size: string[] = [];
    if (sizeBytes !== undefined) {
      if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1024) {
        throw new SizeInvalidError(String(sizeBytes), 'a file system size is a whole number of bytes, at least 1 KiB');
      }
      size.push(`${Math.floor(sizeBytes / 1024)}K`);
    }
    // resize2fs works offline on a checked file system: the device must not be mounted.
    await this.fsck(device, context);
    await this.runner.run({ argv: ['resize2fs', device, ...size], mutates: true }, context);
  }

  /**
   * Mounts `device` (`ro`, or `rw`), runs use(), and always unmounts and removes the directory, even
   * when use() fails or the operation is cancelled. A busy file system is retried once after a short
   * delay, then detached lazily (`umount -l`) with a warning event.
   *
   * Dry run: the mount and unmount are planned (emitted, not run) and use() is called with a
   * placeholder, `<tmpdir>/imgbased-mnt-(dry run:<device name>)`, which is never created: in a dry run
   * use() must only plan commands, not touch files under it.
   */
  async withMounted<T>(
    device: string,
    options: { readonly readOnly: boolean },
    use: (directory: string) => Promise<T>,
    context?: OperationContext,
  ): Promise<T> {
    const mountOptions = options.readOnly ? 'ro' : 'rw';
    if (context?.dryRun) {
      const placeholder = join(tmpdir(), `${MOUNT_DIR_PREFIX}(dry run:${basename(device)})`);
      await this.runner.run({ argv: mountArgv(mountOptions, device, placeholder), mutates: true }, context);
      const value = await use(placeholder);
      await this.runner.run({ argv: ['umount', placeholder], mutates: true }, context);
      return value;
    }

    // The mount point sits in a directory of mode 0700: once mounted, the point itself shows the
    // mode of the file system's root, and only the parent keeps other users out.
    const parent = await mkdtemp(join(tmpdir(), mountDirPrefix()));
    const directory = join(parent, 'root');
    try {
      await mkdir(directory, { mode: 0o700 });
      await this.runner.run({ argv: mountArgv(mountOptions, device, directory), mutates: true }, context);
    } catch (error) {
      await rmdir(directory)
        .then(() => rmdir(parent))
        .catch(() => undefined);
      throw error;
    }

    let value: T;
    try {
      value = await use(directory);
    } catch (error) {
      await this.unmount(directory, context).catch((unmountError: unknown) => {
        emit(context, { type: 'warning', message: `Could not unmount ${directory}: ${describe(unmountError)}` });
      });
      throw error;
    }
    await this.unmount(directory, context);
    return value;
  }

  leftoverMounts(context?: OperationContext): Promise<LeftoverMount[]> {
    return findLeftoverMounts(this.runner, context);
  }

  /** Unmounts a leftover mount (retried, then lazily, as after use) and removes its directories. */
  async releaseMount(mount: LeftoverMount, context?: OperationContext): Promise<void> {
    if (context?.dryRun) {
      await this.runner.run({ argv: ['umount', mount.directory], mutates: true }, context);
      return;
    }
    await this.unmount(mount.directory, context);
  }

  async trim(mountPoint: string, context?: OperationContext): Promise<void> {
    await this.runner.run({ argv: ['fstrim', mountPoint], mutates: true }, context);
  }

  /** An image's geometry and the blocks in use, from its superblock and block bitmaps. */
  private async usedBlocks(image: string, context?: OperationContext): Promise<UsedBlocks> {
    const result = await this.runner.run({ argv: ['dumpe2fs', image], mutates: false }, context);
    const blocks = parseUsedBlocks(result.stdout);
    if (blocks === undefined) {
      throw new ImageInvalidError(image, 'dumpe2fs found no block size, block count or free block lists in it');
    }
    return blocks;
  }

  private async deviceSize(device: string, context?: OperationContext): Promise<number> {
    const result = await this.runner.run({ argv: ['blockdev', '--getsize64', device], mutates: false }, context);
    const bytes = Number(result.stdout.trim());
    if (!Number.isSafeInteger(bytes) || result.stdout.trim() === '') {
      throw new InternalError(`'blockdev --getsize64 ${device}' printed no size: '${result.stdout.trim()}'`);
    }
    return bytes;
  }

  private async fsck(device: string, context?: OperationContext): Promise<void> {
    await this.runner.run({ argv: ['e2fsck', '-f', '-y', device], mutates: true, okExitCodes: FSCK_OK }, context);
  }

  /** Unmounts and removes the directory. Not cancellable: cleanup runs even for a cancelled operation. */
  private async unmount(directory: string, context?: OperationContext): Promise<void> {
    const cleanup: OperationContext = { report: context?.report };
    try {
      await this.runner.run({ argv: ['umount', directory], mutates: true }, cleanup);
    } catch (first) {
      await sleep(UMOUNT_RETRY_DELAY_MS);
      try {
        await this.runner.run({ argv: ['umount', directory], mutates: true }, cleanup);
      } catch {
        await this.runner.run({ argv: ['umount', '-l', directory], mutates: true }, cleanup);
        emit(context, {
          type: 'warning',
          message: `${directory} was busy and has been detached lazily: ${describe(first)}`,
        });
      }
    }
    // rmdir, not rm -r: should the file system still be there, nothing in it is touched.
    const parent = dirname(directory);
    await rmdir(directory)
      .then(() => rmdir(parent))
      .catch((error: unknown) => {
        emit(context, { type: 'warning', message: `Could not remove ${parent}: ${describe(error)}` });
      });
  }
}

function mountArgv(options: string, device: string, directory: string): string[] {
  return ['mount', '-t', 'ext4', '-o', options, device, directory];
}

/** Parses `blkid -o export`: KEY=value lines, special characters in values escaped with a backslash. */
export function parseBlkidExport(stdout: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    tags.set(line.slice(0, equals), line.slice(equals + 1).replace(/\\(.)/g, '$1'));
  }
  return tags;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

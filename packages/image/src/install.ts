import { readFile, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner, FilesystemDriver, ImageInfo, OperationContext } from '@imgbased/core';
import { ProgressReporter, withSampledProgress } from './progress.js';
import { LIVEIMG_ROOTFS, withSquashfsMounted } from './squashfs-image.js';
import { tarCompressionFlags } from './tar-image.js';

/** See ImageInstaller.install. */
export async function installImage(
  runner: CommandRunner,
  filesystems: FilesystemDriver,
  image: ImageInfo,
  device: string,
  context?: OperationContext,
): Promise<void> {
  const reporter = new ProgressReporter(context, 'install', image.dataBytes);
  // Progress is measured on the target; where it cannot be (no counter), the copy runs without it.
  const measured = async <T>(sample: () => Promise<() => Promise<number>>, work: () => Promise<T>) => {
    const bytesDone = context?.dryRun ? undefined : await sample().catch(() => undefined);
    return bytesDone === undefined ? work() : withSampledProgress(reporter, bytesDone, work);
  };

  switch (image.format) {
    case 'ext4':
      // The driver copies the blocks in use only, then grows the file system to a larger device.
      await measured(
        () => deviceWrites(device),
        () => filesystems.writeImage(image.path, device, context),
      );
      return;
    case 'liveimg':
      await withSquashfsMounted(
        runner,
        image.path,
        (directory) =>
          measured(
            () => deviceWrites(device),
            () => filesystems.writeImage(join(directory, LIVEIMG_ROOTFS), device, context),
          ),
        context,
      );
      return;
    case 'squashfs':
    case 'tar': {
      await filesystems.create(device, {}, context);
      const argv = (directory: string) =>
        image.format === 'squashfs' ? unsquashfsArgv(image.path, directory) : tarArgv(image, directory);
      await filesystems.withMounted(
        device,
        { readOnly: false },
        (directory) =>
          measured(
            () => usedBytes(directory),
            () => runner.run({ argv: argv(directory), mutates: true }, context),
          ),
        context,
      );
      return;
    }
  }
}

/**
 * Into the (fresh, mounted) root: xattrs (SELinux labels among them), hard links, holes of sparse
 * files and owners as stored. A file that cannot be written fully fails the install (exit 2).
 */
export function unsquashfsArgv(image: string, directory: string): string[] {
  return ['unsquashfs', '-no-progress', '-force', '-xattrs', '-dest', directory, image];
}

/** Owners by number, permissions, xattrs of every namespace, ACLs, SELinux labels; sparse members stay sparse. */
export function tarArgv(image: ImageInfo, directory: string): string[] {
  return [
    'tar',
    '-x',
    ...tarCompressionFlags(image.compression ?? 'none'),
    '-f',
    image.path,
    '-C',
    directory,
    '--xattrs',
    '--xattrs-include=*',
    '--acls',
    '--selinux',
    '--sparse',
    '--numeric-owner',
    '--same-permissions',
    '--same-owner',
  ];
}

/** Bytes written to a block device since the call: the kernel's counter of sectors written. */
async function deviceWrites(device: string): Promise<() => Promise<number>> {
  // By device numbers: without udev, /dev/mapper/VG-LV is a node of its own, not a link to dm-N.
  const { rdev } = await stat(device);
  const major = (rdev >>> 8) & 0xfff;
  const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
  const counter = `/sys/dev/block/${major}:${minor}/stat`;
  const sectors = async () => Number((await readFile(counter, 'utf8')).trim().split(/\s+/)[6]);
  const before = await sectors();
  return async () => ((await sectors()) - before) * 512;
}

/** Bytes a mounted file system took since the call (ext4 counts delayed allocations as used). */
async function usedBytes(directory: string): Promise<() => Promise<number>> {
  const used = async () => {
    const stats = await statfs(directory);
    return (stats.blocks - stats.bfree) * stats.bsize;
  };
  const before = await used();
  return async () => (await used()) - before;
}

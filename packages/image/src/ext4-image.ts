import { type CommandRunner, ImageInvalidError, type OperationContext } from '@imgbased/core';
import { checked } from './format-checks.js';
import type { ImageTree } from './image-tree.js';

export interface Ext4ImageFacts {
  /** The file system's size: the smallest device it installs onto. */
  readonly fileSystemBytes: number;
  /** Its blocks in use (metadata included): what `FilesystemDriver.writeImage` copies. */
  readonly usedBytes: number;
}

/** Checks a whole file system image read-only: `FilesystemDriver.checkImage`. */
export type CheckFileSystem = (image: string, context?: OperationContext) => Promise<void>;

/**
 * Reads an ext4 image's superblock (`dumpe2fs -h`) and checks the whole file system read-only
 * (`checkFileSystem`: e2fsck -f -n, a few seconds for a GiB): a damaged image is refused before anything is made.
 */
export async function checkExt4Image(
  runner: CommandRunner,
  checkFileSystem: CheckFileSystem,
  image: string,
  context?: OperationContext,
): Promise<Ext4ImageFacts> {
  const header = await checked(image, 'dumpe2fs cannot read its superblock', () =>
    runner.run({ argv: ['dumpe2fs', '-h', image], mutates: false }, context),
  );
  const field = (name: string) => {
    const value = new RegExp(`^${name}:\\s+(\\d+)\\s*$`, 'm').exec(header.stdout)?.[1];
    if (value === undefined) throw new ImageInvalidError(image, `its superblock gives no '${name}'`);
    return Number(value);
  };
  const blockSize = field('Block size');
  const blockCount = field('Block count');
  const freeBlocks = field('Free blocks');
  await checkFileSystem(image, context);
  return { fileSystemBytes: blockCount * blockSize, usedBytes: (blockCount - freeBlocks) * blockSize };
}

/** An ext4 image's tree through debugfs, which reads the image file without mounting it. */
export function ext4Tree(runner: CommandRunner, image: string, context?: OperationContext): ImageTree {
  const debugfs = async (request: string) =>
    (await runner.run({ argv: ['debugfs', '-R', request, image], mutates: false }, context)).stdout;
  return {
    async entry(path) {
      // debugfs splits its request on blanks unless quoted, and has no escape for a quote itself.
      if (/["\n]/.test(path)) return undefined;
      const stat = await debugfs(`stat "${path}"`);
      const type = /^Inode:\s+\d+\s+Type:\s+(\w+)/m.exec(stat)?.[1];
      if (type === undefined) return undefined;
      if (type !== 'symlink') return { type: type === 'regular' ? 'file' : type === 'directory' ? 'dir' : 'other' };
      // A short target lives in the inode ("fast"); a longer one in a block, which `cat` prints.
      const fast = /^Fast link dest: "(.*)"$/m.exec(stat)?.[1];
      return { type: 'link', target: fast ?? (await debugfs(`cat "${path}"`)) };
    },
    read: (path) => debugfs(`cat "${path}"`),
  };
}

import { mkdir, mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type CommandRunner, emit, type OperationContext } from '@imgbased/core';
import { checked } from './format-checks.js';
import { type ImageTree, listingTree } from './image-tree.js';
import { parseUnsquashfsListing, type TreeListing } from './listings.js';

/** Where a liveimg keeps its root file system, an ext4 image. */
export const LIVEIMG_ROOTFS = 'LiveOS/rootfs.img';

/**
 * Checks a squashfs's superblock (`unsquashfs -s`) and lists its tree (`unsquashfs -lln`, which reads
 * all its inode and directory tables, not the file data).
 */
export async function listSquashfs(
  runner: CommandRunner,
  image: string,
  context?: OperationContext,
): Promise<TreeListing> {
  await checked(image, 'unsquashfs cannot read its superblock', () =>
    runner.run({ argv: ['unsquashfs', '-s', image], mutates: false }, context),
  );
  const listing = await checked(image, 'unsquashfs cannot list it', () =>
    runner.run({ argv: ['unsquashfs', '-no-progress', '-lln', image], mutates: false }, context),
  );
  return parseUnsquashfsListing(listing.stdout);
}

/** A liveimg: `LiveOS/rootfs.img` is a file and there is no root tree beside it. */
export function isLiveimg(listing: TreeListing): boolean {
  return listing.entries.get(`/${LIVEIMG_ROOTFS}`)?.type === 'file' && listing.entries.get('/etc') === undefined;
}

export function squashfsTree(
  runner: CommandRunner,
  image: string,
  listing: TreeListing,
  context?: OperationContext,
): ImageTree {
  return listingTree(listing, async (entry) => {
    const name = entry.member.slice('squashfs-root/'.length);
    const argv = ['unsquashfs', '-no-progress', '-no-wildcards', '-cat', image, name];
    return (await runner.run({ argv, mutates: false }, context)).stdout;
  });
}

/**
 * Mounts a squashfs read-only on a private directory (mode 0700 parent) for use(), then unmounts it
 * and removes the directory, whatever use() did. The mount runs also in a dry run (`mutates: false`):
 * it is a read-only view of a file, undone before this returns, and reading the image is how a dry
 * run plans. The loop device `-o loop` takes is released by the unmount (autoclear).
 */
export async function withSquashfsMounted<T>(
  runner: CommandRunner,
  image: string,
  use: (directory: string) => Promise<T>,
  context?: OperationContext,
): Promise<T> {
  const parent = await mkdtemp(join(tmpdir(), 'imgbased-sqfs-'));
  const directory = join(parent, 'root');
  try {
    await mkdir(directory, { mode: 0o700 });
    await runner.run({ argv: ['mount', '-t', 'squashfs', '-o', 'ro,loop', image, directory], mutates: false }, context);
  } catch (error) {
    await rmdir(directory)
      .then(() => rmdir(parent))
      .catch(() => undefined);
    throw error;
  }
  try {
    return await use(directory);
  } finally {
    await unmount(runner, directory, context);
  }
}

/** Not cancellable: cleanup runs for a cancelled operation too. A busy mount is detached lazily. */
async function unmount(runner: CommandRunner, directory: string, context?: OperationContext): Promise<void> {
  const cleanup: OperationContext = { report: context?.report };
  try {
    await runner.run({ argv: ['umount', directory], mutates: false }, cleanup);
  } catch (error) {
    await runner.run({ argv: ['umount', '-l', directory], mutates: false }, cleanup);
    emit(context, { type: 'warning', message: `${directory} was busy and has been detached lazily: ${String(error)}` });
  }
  await rmdir(directory)
    .then(() => rmdir(dirname(directory)))
    .catch(() => undefined);
}

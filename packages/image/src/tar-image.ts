import {
  type CommandRunner,
  ImageFormatUnknownError,
  type OperationContext,
  type TarCompression,
} from '@imgbased/core';
import { checked } from './format-checks.js';
import { type ImageTree, listingTree } from './image-tree.js';
import { parseTarListing, type TreeListing } from './listings.js';

/** tar's option for each compression: named, never left to tar's guess. */
export function tarCompressionFlags(compression: TarCompression): string[] {
  switch (compression) {
    case 'none':
      return [];
    case 'gzip':
      return ['-z'];
    case 'xz':
      return ['-J'];
    case 'zstd':
      return ['--zstd'];
  }
}

/**
 * Lists a tar archive to its end (`tar -tv`): every header read and the whole compressed stream
 * checked, so that a truncated or damaged archive is refused before anything is made. A compressed
 * stream that holds no tar archive is of an unknown format.
 */
export async function listTar(
  runner: CommandRunner,
  image: string,
  compression: TarCompression,
  context?: OperationContext,
): Promise<TreeListing> {
  // --no-seek: seeking over members' data, tar takes a plain archive cut at a record boundary for a whole one.
  const argv = ['tar', '-t', '-v', '--no-seek', '--numeric-owner', ...tarCompressionFlags(compression), '-f', image];
  const listing = await checked(
    image,
    'tar cannot read it',
    () => runner.run({ argv, mutates: false }, context),
    (failure) => {
      const stderr = String((failure.details as { stderr?: string } | undefined)?.stderr ?? '');
      return compression !== 'none' && /does not look like a tar archive/.test(stderr)
        ? new ImageFormatUnknownError(image, `${compression}-compressed data that is not a tar archive`)
        : undefined;
    },
  );
  return parseTarListing(listing.stdout);
}

export function tarTree(
  runner: CommandRunner,
  image: string,
  compression: TarCompression,
  listing: TreeListing,
  context?: OperationContext,
): ImageTree {
  return listingTree(listing, async (entry) => {
    const member = entry.type === 'hardlink' && entry.target !== undefined ? entry.target : entry.member;
    // --occurrence=1: tar stops reading at the member instead of going through the whole archive.
    const argv = ['tar', '-x', '-O', '--occurrence=1', ...tarCompressionFlags(compression), '-f', image, member];
    return (await runner.run({ argv, mutates: false }, context)).stdout;
  });
}

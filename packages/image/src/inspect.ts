import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type CommandRunner,
  type ImageFormat,
  ImageFormatUnknownError,
  type ImageInfo,
  type ImageInspectOptions,
  ImageInvalidError,
  type OperationContext,
  parseNvr,
  type TarCompression,
  UsageError,
} from '@imgbased/core';
import { type CheckFileSystem, checkExt4Image, ext4Tree } from './ext4-image.js';
import { type ImageTree, readTreeFile } from './image-tree.js';
import { detectMagic, HEADER_BYTES, type Magic } from './magic.js';
import { nvrFromFileName, nvrFromOsRelease, parseOsRelease } from './nvr-sources.js';
import { isLiveimg, LIVEIMG_ROOTFS, listSquashfs, squashfsTree, withSquashfsMounted } from './squashfs-image.js';
import { listTar, tarTree } from './tar-image.js';

const MiB = 1024 ** 2;

/** What {@link inspectImage} learnt about the content, before the NVR. */
interface Content {
  readonly format: ImageFormat;
  readonly compression?: TarCompression;
  readonly dataBytes: number;
  readonly minimumDeviceBytes: number;
}

/** See ImageInstaller.inspect. Reads the image and runs read-only tools on it only. */
export async function inspectImage(
  runner: CommandRunner,
  checkFileSystem: CheckFileSystem,
  path: string,
  options: ImageInspectOptions = {},
  context?: OperationContext,
): Promise<ImageInfo> {
  const magic = detectMagic(await readHeader(path));
  if (magic.kind === 'unknown') throw new ImageFormatUnknownError(path, magic.seen);
  checkChoice(path, options.format ?? 'auto', magic);
  const identify = async (tree: ImageTree, content: Content): Promise<ImageInfo> => {
    const root = await tree.entry('/etc');
    if (root?.type !== 'dir') throw new ImageInvalidError(path, 'it holds no root tree (no /etc directory)');
    return { path, ...content, ...(await findNvr(path, tree, options)) };
  };

  switch (magic.kind) {
    case 'ext4': {
      const facts = await checkExt4Image(runner, checkFileSystem, path, context);
      return identify(ext4Tree(runner, path, context), ext4Content('ext4', facts));
    }
    case 'tar': {
      const listing = await listTar(runner, path, magic.compression, context);
      const tree = tarTree(runner, path, magic.compression, listing, context);
      return identify(tree, { format: 'tar', compression: magic.compression, ...treeSizes(listing.dataBytes) });
    }
    case 'squashfs': {
      const listing = await listSquashfs(runner, path, context);
      if (!isLiveimg(listing)) {
        return identify(squashfsTree(runner, path, listing, context), {
          format: 'squashfs',
          ...treeSizes(listing.dataBytes),
        });
      }
      return withSquashfsMounted(
        runner,
        path,
        async (directory) => {
          const rootfs = join(directory, LIVEIMG_ROOTFS);
          if (detectMagic(await readHeader(rootfs)).kind !== 'ext4') {
            throw new ImageInvalidError(path, `its ${LIVEIMG_ROOTFS} is not an ext4 image`);
          }
          const facts = await checkExt4Image(runner, checkFileSystem, rootfs, context);
          return identify(ext4Tree(runner, rootfs, context), ext4Content('liveimg', facts));
        },
        context,
      );
    }
  }
}

async function readHeader(path: string): Promise<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new ImageInvalidError(path, `it cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: error,
    });
  }
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    // A directory opens but does not read (EISDIR).
    throw new ImageInvalidError(path, `it cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: error,
    });
  } finally {
    await handle.close();
  }
}

function checkChoice(path: string, choice: NonNullable<ImageInspectOptions['format']>, magic: Magic): void {
  if (choice === 'auto' || choice === magic.kind) return;
  const found =
    magic.kind === 'tar' && magic.compression !== 'none' ? `a ${magic.compression}-compressed tar` : `${magic.kind}`;
  throw new ImageInvalidError(path, `it is ${found}, not ${choice} (--format)`);
}

function ext4Content(format: 'ext4' | 'liveimg', facts: { fileSystemBytes: number; usedBytes: number }): Content {
  return { format, dataBytes: facts.usedBytes, minimumDeviceBytes: facts.fileSystemBytes };
}

/**
 * A fresh ext4 for a tree of `dataBytes`: about 10 % for inode tables, reserved blocks and directories,
 * and 80 MiB for the journal (64 MiB from 1 GiB on) and slack; whole MiB.
 */
export function treeSizes(dataBytes: number): { dataBytes: number; minimumDeviceBytes: number } {
  return { dataBytes, minimumDeviceBytes: Math.ceil((dataBytes * 1.1 + 80 * MiB) / MiB) * MiB };
}

/** The NVR: the caller's, else the image's os-release, else its file name; else a usage error. */
async function findNvr(
  path: string,
  tree: ImageTree,
  options: ImageInspectOptions,
): Promise<Pick<ImageInfo, 'nvr' | 'nvrFrom'>> {
  if (options.nvr !== undefined) {
    parseNvr(options.nvr);
    return { nvr: options.nvr, nvrFrom: 'option' };
  }
  // os-release(5): /etc/os-release, else /usr/lib/os-release.
  const osRelease = (await readTreeFile(tree, '/etc/os-release')) ?? (await readTreeFile(tree, '/usr/lib/os-release'));
  const declared = osRelease === undefined ? undefined : nvrFromOsRelease(parseOsRelease(osRelease));
  if (declared !== undefined) {
    try {
      parseNvr(declared.nvr);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ImageInvalidError(path, `its os-release ${declared.field} is no NVR (${reason}); give --nvr`);
    }
    return { nvr: declared.nvr, nvrFrom: 'os-release' };
  }
  const fileName = options.fileName ?? basename(path);
  const fromName = nvrFromFileName(fileName);
  if (fromName !== undefined) return { nvr: fromName, nvrFrom: 'file-name' };
  throw new UsageError(
    `Image '${fileName}' names no NVR: give --nvr NAME-VERSION-RELEASE, set IMAGE_NVR= in the image's /etc/os-release, or name the file after it (e.g. Node-4.7-0.1.squashfs)`,
  );
}

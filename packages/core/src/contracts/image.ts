import type { OperationContext } from '../events.js';

/**
 * What an OS image holds, told by its content (never by its file name):
 * - `ext4`: an ext4 (or ext2/3) file system image of a root tree;
 * - `squashfs`: a squashfs holding a root tree;
 * - `liveimg`: oVirt Node's form, a squashfs holding `LiveOS/rootfs.img`, itself an ext4 image;
 * - `tar`: a tar archive of a root tree, plain or compressed (see {@link TarCompression}).
 */
export type ImageFormat = 'ext4' | 'squashfs' | 'liveimg' | 'tar';
export const IMAGE_FORMATS: readonly ImageFormat[] = ['ext4', 'squashfs', 'liveimg', 'tar'];
export type TarCompression = 'none' | 'gzip' | 'xz' | 'zstd';

/** What the caller asked for: `auto` detects; `squashfs` accepts a liveimg too. */
export type ImageFormatChoice = 'auto' | 'ext4' | 'squashfs' | 'tar';

/** An image as a local file, its checksum verified when one was given or found. */
export interface LocalImage {
  /** The local file (the download, when IMAGE was a URL). */
  readonly path: string;
  /** The image's own file name (the last segment of a URL's path): the last resort for its NVR. */
  readonly fileName: string;
  /** The URL it was downloaded from. */
  readonly url?: string | undefined;
  /** The SHA-256 the file was checked against, and where it came from; undefined: not checked. */
  readonly verified?: { readonly sha256: string; readonly from: 'option' | 'file' } | undefined;
}

/** Turns IMAGE (a path or an http(s):// URL) into a local, verified file. */
export interface ImageSource {
  /**
   * A URL is downloaded into `downloadDirectory` (resumed from `NAME.part` there), with `progress`
   * events (step `download`). The checksum (`sha256`, else an `IMAGE.sha256` file beside IMAGE) is
   * verified before this returns: a mismatch throws `E_IMAGE_CHECKSUM` and removes the download.
   */
  resolve(
    image: string,
    options: { readonly downloadDirectory: string; readonly sha256?: string | undefined },
    context?: OperationContext,
  ): Promise<LocalImage>;
}
export const ImageSource = Symbol.for('imgbased.ImageSource');

export interface ImageInfo {
  readonly path: string;
  readonly format: ImageFormat;
  /** tar only. */
  readonly compression?: TarCompression | undefined;
  readonly nvr: string;
  /** Where the NVR came from: the caller, the image's os-release, or its file name. */
  readonly nvrFrom: 'option' | 'os-release' | 'file-name';
  /** Bytes the installed tree takes on its device (what a thin pool must hold); estimated for squashfs and tar. */
  readonly dataBytes: number;
  /** The smallest device the image installs onto (for ext4 and liveimg: the size of its file system). */
  readonly minimumDeviceBytes: number;
}

export interface ImageInspectOptions {
  readonly format?: ImageFormatChoice | undefined;
  /** Given by the caller: used (once validated) instead of the image's own. */
  readonly nvr?: string | undefined;
  /** The name the NVR may come from last (default: the file name of `path`). */
  readonly fileName?: string | undefined;
}

/** Reads OS images and installs them onto block devices. */
export interface ImageInstaller {
  /**
   * Detects the format by content and checks the image deeper than its magic; finds its NVR and the
   * space it needs. Changes nothing (also runs in a dry run). Refuses an unknown format
   * (`E_IMAGE_FORMAT_UNKNOWN`), a corrupt image (`E_IMAGE_INVALID`), and an image without an NVR (`E_USAGE`).
   */
  inspect(path: string, options?: ImageInspectOptions, context?: OperationContext): Promise<ImageInfo>;
  /**
   * Installs an inspected image onto `device`, which must hold at least `minimumDeviceBytes`: ext4 and
   * liveimg by their used blocks (then grown to the device), squashfs and tar into a fresh ext4 with
   * xattrs, ACLs, SELinux labels, hard links and sparse files kept. `progress` events (step `install`)
   * while it copies. Cancellable through the context's signal; what was written then is the caller's to remove.
   */
  install(image: ImageInfo, device: string, context?: OperationContext): Promise<void>;
}
export const ImageInstaller = Symbol.for('imgbased.ImageInstaller');

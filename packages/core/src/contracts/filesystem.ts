import type { OperationContext } from '../events.js';

export interface FilesystemInfo {
  readonly type: string;
  readonly uuid: string | undefined;
  readonly label: string | undefined;
}

/** A mount an imgbased process made with `withMounted` and left behind (it was killed). */
export interface LeftoverMount {
  /** The mount point. */
  readonly directory: string;
  /** What is mounted there (the device). */
  readonly source: string;
}

/** The file system on bases and layers: ext4 in practice. */
export interface FilesystemDriver {
  readonly type: string;
  /** Reads what is on a device (blkid); undefined when it holds no file system. */
  probe(device: string, context?: OperationContext): Promise<FilesystemInfo | undefined>;
  /** Makes a new, empty file system (with discard). */
  create(device: string, options: { readonly label?: string }, context?: OperationContext): Promise<void>;
  /**
   * Copies a file system image file onto a device, writing only the blocks in use (thin volumes
   * stay thin), then grows the file system to fill the device.
   */
  writeImage(image: string, device: string, context?: OperationContext): Promise<void>;
  /**
   * Checks an image file read-only before `writeImage` copies it: the copy trusts the image's own
   * allocation maps, so a damaged image is refused (ImageInvalidError) rather than copied incomplete.
   */
  checkImage(image: string, context?: OperationContext): Promise<void>;
  /** Gives a copied file system (a new layer) its own UUID, after a full check. */
  regenerateUuid(device: string, context?: OperationContext): Promise<void>;
  /** Grows (or shrinks, when unmounted) the file system to fill its device, or to sizeBytes. */
  resize(device: string, sizeBytes: number | undefined, context?: OperationContext): Promise<void>;
  /**
   * Mounts device on a private temporary directory, runs use(dir), and always unmounts and
   * removes the directory afterwards, whether use() succeeded or not.
   */
  withMounted<T>(
    device: string,
    options: { readonly readOnly: boolean },
    use: (directory: string) => Promise<T>,
    context?: OperationContext,
  ): Promise<T>;
  /** Discards unused blocks of a mounted file system, giving them back to the thin pool. */
  trim(mountPoint: string, context?: OperationContext): Promise<void>;
  /**
   * The mounts of `withMounted` whose process is gone (killed inside it): recovery unmounts them
   * before it removes volumes, as a mounted volume cannot be removed. Never a live process's mount.
   */
  leftoverMounts?(context?: OperationContext): Promise<LeftoverMount[]>;
  /** Unmounts a leftover mount and removes its private directory. */
  releaseMount?(mount: LeftoverMount, context?: OperationContext): Promise<void>;
}
export const FilesystemDriver = Symbol.for('imgbased.FilesystemDriver');

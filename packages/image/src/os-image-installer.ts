import {
  CommandRunner,
  FilesystemDriver,
  type ImageInfo,
  type ImageInspectOptions,
  type ImageInstaller,
  type OperationContext,
} from '@imgbased/core';
import { inject, injectable } from 'tsyringe';
import { inspectImage } from './inspect.js';
import { installImage } from './install.js';

/**
 * ImageInstaller on the host's tools: e2fsprogs (dumpe2fs, e2fsck, debugfs; an ext4 image's copy through the
 * FilesystemDriver), squashfs-tools, GNU tar with gzip/xz/zstd, mount. Every command through the
 * CommandRunner; the target file system through the FilesystemDriver.
 */
@injectable()
export class OsImageInstaller implements ImageInstaller {
  constructor(
    @inject(CommandRunner) private readonly runner: CommandRunner,
    @inject(FilesystemDriver) private readonly filesystems: FilesystemDriver,
  ) {}

  inspect(path: string, options?: ImageInspectOptions, context?: OperationContext): Promise<ImageInfo> {
    return inspectImage(
      this.runner,
      (image, checkContext) => this.filesystems.checkImage(image, checkContext),
      path,
      options,
      context,
    );
  }

  install(image: ImageInfo, device: string, context?: OperationContext): Promise<void> {
    return installImage(this.runner, this.filesystems, image, device, context);
  }
}

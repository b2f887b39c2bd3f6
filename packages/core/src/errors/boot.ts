import { type ErrorOptions, ImgbasedError } from './base.js';

export class NoBootloaderError extends ImgbasedError {
  constructor(configured: readonly string[]) {
    super(
      'E_NO_BOOTLOADER',
      `No configured bootloader is present (${configured.join(', ')}): install one or set [bootloader] plugins`,
      { details: { configured: [...configured] } },
    );
  }
}
export class BootEntryNotFoundError extends ImgbasedError {
  constructor(layer: string, bootloader: string) {
    super('E_BOOT_ENTRY_NOT_FOUND', `Layer '${layer}' has no ${bootloader} boot entry: see 'imgbase boot --list'`, {
      details: { layer, bootloader },
    });
  }
}
export class BootConfigInvalidError extends ImgbasedError {
  constructor(file: string, reason: string) {
    super('E_BOOT_CONFIG_INVALID', `${file}: ${reason}; fix or remove it, nothing was changed`, {
      details: { file, reason },
    });
  }
}
export class BootWriteError extends ImgbasedError {
  constructor(path: string, reason: string, options: ErrorOptions = {}) {
    super('E_BOOT_WRITE_FAILED', `Cannot write ${path}: ${reason}; the boot configuration was left as it was`, {
      ...options,
      details: { path, reason },
    });
  }
}
export class BootUnsupportedError extends ImgbasedError {
  constructor(bootloader: string, what: string) {
    super('E_BOOT_UNSUPPORTED', `${bootloader} cannot ${what}`, { details: { bootloader, what } });
  }
}
export class BootLastEntryError extends ImgbasedError {
  constructor(layer: string) {
    super('E_BOOT_LAST_ENTRY', `Removing '${layer}' would leave no boot entry: add another layer first`, {
      details: { layer },
    });
  }
}

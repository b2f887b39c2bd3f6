import { type ErrorOptions, ImgbasedError, type JsonValue } from './base.js';

export class UsageError extends ImgbasedError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_USAGE', message, options);
  }
}
export class NameInvalidError extends ImgbasedError {
  constructor(name: string, reason: string) {
    super('E_NAME_INVALID', `Invalid name '${name}': ${reason}`, { details: { name, reason } });
  }
}
export class SizeInvalidError extends ImgbasedError {
  constructor(size: string, reason: string) {
    super('E_SIZE_INVALID', `Invalid size '${size}': ${reason}`, { details: { size, reason } });
  }
}
export class BaseNotFoundError extends ImgbasedError {
  constructor(name: string) {
    super('E_BASE_NOT_FOUND', `No base named '${name}': see 'imgbase layout --bases'`, { details: { name } });
  }
}
export class LayerNotFoundError extends ImgbasedError {
  constructor(name: string) {
    super('E_LAYER_NOT_FOUND', `No layer named '${name}': see 'imgbase layout --layers'`, { details: { name } });
  }
}
export class VolumeNotFoundError extends ImgbasedError {
  constructor(name: string) {
    super('E_VOLUME_NOT_FOUND', `No volume '${name}': name a logical volume as VG/LV or /dev/VG/LV`, {
      details: { name },
    });
  }
}
export class BaseExistsError extends ImgbasedError {
  constructor(name: string) {
    super('E_BASE_EXISTS', `A volume named '${name}' exists already: choose another NVR`, { details: { name } });
  }
}
export class BaseInUseError extends ImgbasedError {
  constructor(base: string, layer: string) {
    super('E_BASE_IN_USE', `Base '${base}' holds the running layer '${layer}': boot another layer before removing it`, {
      details: { base, layer },
    });
  }
}
export class NoLayoutError extends ImgbasedError {
  constructor() {
    super('E_NO_LAYOUT', "No imgbased layout on this host: create one with 'imgbase layout --init NVR --from VG/LV'");
  }
}
export class LayoutExistsError extends ImgbasedError {
  constructor(vg: string) {
    super('E_LAYOUT_EXISTS', `Volume group '${vg}' already holds an imgbased layout: see 'imgbase layout'`, {
      details: { vg },
    });
  }
}
export class LayoutInvalidError extends ImgbasedError {
  constructor(message: string, details?: { [key: string]: JsonValue }) {
    super('E_LAYOUT_INVALID', message, details === undefined ? {} : { details });
  }
}
export class NoThinPoolError extends ImgbasedError {
  constructor(what: string) {
    super(
      'E_NO_THIN_POOL',
      `${what} is not in an LVM thin pool: install the host with 'autopart --type=thinp' or create a thin pool`,
      { details: { what } },
    );
  }
}
export class NotOnLayerError extends ImgbasedError {
  constructor(source: string) {
    super('E_NOT_ON_LAYER', `The running root (${source}) is not an imgbased layer`, { details: { source } });
  }
}
export class ImageInvalidError extends ImgbasedError {
  constructor(image: string, reason: string, options: ErrorOptions = {}) {
    super('E_IMAGE_INVALID', `Image '${image}' cannot be used: ${reason}`, {
      ...options,
      details: { image, reason },
    });
  }
}
export class LockedError extends ImgbasedError {
  constructor(lockPath: string, holder: string) {
    super('E_LOCKED', `Another imgbased operation is running (${holder}); try again when it has finished`, {
      details: { lockPath, holder },
    });
  }
}
export class NotRootError extends ImgbasedError {
  constructor(verb: string) {
    super('E_NOT_ROOT', `'${verb}' changes the system and must run as root`, { details: { verb } });
  }
}
export class ConfigInvalidError extends ImgbasedError {
  constructor(file: string, key: string, reason: string) {
    super('E_CONFIG_INVALID', `${file}: ${key}: ${reason}`, { details: { file, key, reason } });
  }
}
export class CommandFailedError extends ImgbasedError {
  constructor(argv: readonly string[], exitCode: number | undefined, stderr: string, options: ErrorOptions = {}) {
    const lastLine = stderr.trim().split('\n').filter(Boolean).at(-1) ?? '';
    super(
      'E_COMMAND_FAILED',
      `'${argv.join(' ')}' failed${exitCode === undefined ? '' : ` with exit code ${exitCode}`}${lastLine ? `: ${lastLine}` : ''}`,
      { ...options, details: { argv: [...argv], exitCode: exitCode ?? null, stderr: stderr.slice(-4000) } },
    );
  }
}
export class CommandNotFoundError extends ImgbasedError {
  constructor(program: string) {
    super('E_COMMAND_NOT_FOUND', `'${program}' is not installed: install the package that provides it`, {
      details: { program },
    });
  }
}
export class CancelledError extends ImgbasedError {
  constructor(what: string, options: ErrorOptions = {}) {
    super('E_CANCELLED', `${what} was cancelled; nothing it made was kept`, options);
  }
}

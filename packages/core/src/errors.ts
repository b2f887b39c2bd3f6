/**
 * Typed errors. Every error imgbased raises on purpose carries a stable string `code` (part of the
 * public, versioned interface: scripts and the daemon's clients match on it), a one-line message that
 * says what to do, optional JSON `details`, and a `cause`. They serialise with `toJSON()` and come back
 * as the same class with `errorFromJSON()`, so they cross the daemon boundary intact.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const ErrorCodes = [
  'E_USAGE',
  'E_NAME_INVALID',
  'E_SIZE_INVALID',
  'E_BASE_NOT_FOUND',
  'E_LAYER_NOT_FOUND',
  'E_VOLUME_NOT_FOUND',
  'E_BASE_EXISTS',
  'E_BASE_IN_USE',
  'E_NO_LAYOUT',
  'E_LAYOUT_EXISTS',
  'E_LAYOUT_INVALID',
  'E_NO_THIN_POOL',
  'E_NOT_ON_LAYER',
  'E_IMAGE_INVALID',
  'E_LOCKED',
  'E_NOT_ROOT',
  'E_CONFIG_INVALID',
  'E_COMMAND_FAILED',
  'E_COMMAND_NOT_FOUND',
  'E_CANCELLED',
  'E_INTERNAL',
  'E_NO_BOOTLOADER',
  'E_BOOT_ENTRY_NOT_FOUND',
  'E_BOOT_CONFIG_INVALID',
  'E_BOOT_WRITE_FAILED',
  'E_BOOT_UNSUPPORTED',
  'E_BOOT_LAST_ENTRY',
  'E_KERNEL_ARG_INVALID',
  'E_PERSISTENCE_CONFLICT',
  'E_UNSAFE_PATH',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export interface SerializedError {
  readonly name: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: { [key: string]: JsonValue } | undefined;
  readonly cause?: SerializedError | { readonly name: string; readonly message: string } | undefined;
}

export interface ErrorOptions {
  readonly cause?: unknown;
  readonly details?: { [key: string]: JsonValue };
}

export class ImgbasedError extends Error {
  readonly code: ErrorCode;
  readonly details: { [key: string]: JsonValue } | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }

  /** True for mistakes of the caller (bad names, missing objects): these change nothing and exit 1. */
  get isUserError(): boolean {
    return USER_ERROR_CODES.has(this.code);
  }

  toJSON(): SerializedError {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.cause === undefined ? {} : { cause: serializeCause(this.cause) }),
    };
  }
}

const USER_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'E_USAGE',
  'E_NAME_INVALID',
  'E_SIZE_INVALID',
  'E_BASE_NOT_FOUND',
  'E_LAYER_NOT_FOUND',
  'E_VOLUME_NOT_FOUND',
  'E_BASE_EXISTS',
  'E_BASE_IN_USE',
  'E_NO_LAYOUT',
  'E_LAYOUT_EXISTS',
  'E_NO_THIN_POOL',
  'E_NOT_ON_LAYER',
  'E_IMAGE_INVALID',
  'E_LOCKED',
  'E_NOT_ROOT',
  'E_CONFIG_INVALID',
  'E_NO_BOOTLOADER',
  'E_BOOT_ENTRY_NOT_FOUND',
  'E_BOOT_CONFIG_INVALID',
  'E_BOOT_UNSUPPORTED',
  'E_BOOT_LAST_ENTRY',
  'E_KERNEL_ARG_INVALID',
]);

function serializeCause(cause: unknown): SerializedError['cause'] {
  if (cause instanceof ImgbasedError) return cause.toJSON();
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return { name: 'Error', message: String(cause) };
}

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
export class InternalError extends ImgbasedError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('E_INTERNAL', message, options);
  }
}

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

export class KernelArgInvalidError extends ImgbasedError {
  constructor(arg: string, reason: string) {
    super('E_KERNEL_ARG_INVALID', `Kernel argument '${arg}' cannot be used: ${reason}`, { details: { arg, reason } });
  }
}

export class PersistenceConflictError extends ImgbasedError {
  constructor(conflicts: readonly { readonly path: string; readonly reason: string }[]) {
    const first = conflicts[0];
    super(
      'E_PERSISTENCE_CONFLICT',
      `${conflicts.length} path(s) changed both by the admin and by the new base${first ? ` (first: ${first.path}: ${first.reason})` : ''}; nothing was written: choose a conflict policy for them`,
      { details: { conflicts: conflicts.map((c) => ({ path: c.path, reason: c.reason })) } },
    );
  }
}
export class UnsafePathError extends ImgbasedError {
  constructor(path: string, reason: string) {
    super('E_UNSAFE_PATH', `Refusing to write '${path}': ${reason}`, { details: { path, reason } });
  }
}

/** Turns anything thrown into an ImgbasedError, keeping the original as its cause. */
export function toImgbasedError(error: unknown): ImgbasedError {
  if (error instanceof ImgbasedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`Unexpected failure: ${message}`, { cause: error });
}

/** Rebuilds an error that crossed a process boundary; the instance has the class its code names. */
export function errorFromJSON(json: SerializedError): ImgbasedError {
  const cause =
    json.cause === undefined
      ? undefined
      : 'code' in json.cause
        ? errorFromJSON(json.cause as SerializedError)
        : Object.assign(new Error(json.cause.message), { name: json.cause.name });
  const error = new ImgbasedError(json.code, json.message, {
    ...(cause === undefined ? {} : { cause }),
    ...(json.details === undefined ? {} : { details: json.details }),
  });
  error.name = json.name;
  return error;
}

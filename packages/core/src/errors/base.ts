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
  'E_PLUGIN_INVALID',
  'E_PLUGIN_INCOMPATIBLE',
  'E_IMAGE_CHECKSUM',
  'E_IMAGE_FORMAT_UNKNOWN',
  'E_IMAGE_DOWNLOAD',
  'E_FORBIDDEN',
  'E_BUSY',
  'E_SHUTTING_DOWN',
  'E_IMAGE_OUTSIDE_DIR',
  'E_NO_SPACE',
  'E_NO_ROLLBACK_TARGET',
  'E_VOLUME_PATH_REFUSED',
  'E_VOLUME_EXISTS',
  'E_VOLUME_IN_USE',
  'E_PATH_MOUNTED',
  'E_MOUNT_REFUSED',
  'E_NOT_MOUNTED',
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
  'E_PLUGIN_INVALID',
  'E_PLUGIN_INCOMPATIBLE',
  'E_IMAGE_CHECKSUM',
  'E_IMAGE_FORMAT_UNKNOWN',
  'E_IMAGE_DOWNLOAD',
  'E_FORBIDDEN',
  'E_BUSY',
  'E_IMAGE_OUTSIDE_DIR',
  'E_NO_SPACE',
  'E_NO_ROLLBACK_TARGET',
  'E_VOLUME_PATH_REFUSED',
  'E_VOLUME_EXISTS',
  'E_VOLUME_IN_USE',
  'E_PATH_MOUNTED',
  'E_MOUNT_REFUSED',
  'E_NOT_MOUNTED',
]);

function serializeCause(cause: unknown): SerializedError['cause'] {
  if (cause instanceof ImgbasedError) return cause.toJSON();
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return { name: 'Error', message: String(cause) };
}

export class InternalError extends ImgbasedError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('E_INTERNAL', message, options);
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

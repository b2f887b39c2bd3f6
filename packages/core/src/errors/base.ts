/**
 * Typed errors. Every error imgbased raises on purpose carries a stable string `code` (part of the
 * public, versioned interface: scripts and the daemon's clients match on it), a one-line message that
 * says what to do, optional JSON `details`, and a `cause`. They serialise with `toJSON()` and come back
 * as the same class with `errorFromJSON()`, so they cross the daemon boundary intact.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Every code, and whether it is the caller's mistake (`user`: the CLI exits 2 and the daemon answers 4xx)
 * or a failure of the system or of imgbased (`failure`).
 */
const ERROR_KINDS = {
  E_USAGE: 'user',
  E_NAME_INVALID: 'user',
  E_SIZE_INVALID: 'user',
  E_BASE_NOT_FOUND: 'user',
  E_LAYER_NOT_FOUND: 'user',
  E_VOLUME_NOT_FOUND: 'user',
  E_BASE_EXISTS: 'user',
  E_BASE_IN_USE: 'user',
  E_NO_LAYOUT: 'user',
  E_LAYOUT_EXISTS: 'user',
  E_LAYOUT_INVALID: 'failure',
  E_NO_THIN_POOL: 'user',
  E_NOT_ON_LAYER: 'user',
  E_IMAGE_INVALID: 'user',
  E_LOCKED: 'user',
  E_NOT_ROOT: 'user',
  E_CONFIG_INVALID: 'user',
  E_COMMAND_FAILED: 'failure',
  E_COMMAND_NOT_FOUND: 'failure',
  E_CANCELLED: 'failure',
  E_INTERNAL: 'failure',
  E_NO_BOOTLOADER: 'user',
  E_BOOT_ENTRY_NOT_FOUND: 'user',
  E_BOOT_CONFIG_INVALID: 'user',
  E_BOOT_WRITE_FAILED: 'failure',
  E_BOOT_UNSUPPORTED: 'user',
  E_BOOT_LAST_ENTRY: 'user',
  E_KERNEL_ARG_INVALID: 'user',
  E_PERSISTENCE_CONFLICT: 'failure',
  E_UNSAFE_PATH: 'failure',
  E_PLUGIN_INVALID: 'user',
  E_PLUGIN_INCOMPATIBLE: 'user',
  E_IMAGE_CHECKSUM: 'user',
  E_IMAGE_FORMAT_UNKNOWN: 'user',
  E_IMAGE_DOWNLOAD: 'user',
  E_FORBIDDEN: 'user',
  E_BUSY: 'user',
  E_SHUTTING_DOWN: 'failure',
  E_IMAGE_OUTSIDE_DIR: 'user',
  E_NO_SPACE: 'user',
  E_NO_ROLLBACK_TARGET: 'user',
  E_VOLUME_PATH_REFUSED: 'user',
  E_VOLUME_EXISTS: 'user',
  E_VOLUME_IN_USE: 'user',
  E_PATH_MOUNTED: 'user',
  E_MOUNT_REFUSED: 'user',
  E_NOT_MOUNTED: 'user',
} as const satisfies Record<string, 'user' | 'failure'>;
export type ErrorCode = keyof typeof ERROR_KINDS;
export const ErrorCodes = Object.keys(ERROR_KINDS) as readonly ErrorCode[];

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

const USER_ERROR_CODES: ReadonlySet<ErrorCode> = new Set(ErrorCodes.filter((code) => ERROR_KINDS[code] === 'user'));

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

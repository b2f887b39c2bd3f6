import { type ErrorOptions, ImgbasedError } from './base.js';

/** The image's SHA-256 is not the one given (`--sha256`) or found (`IMAGE.sha256`). */
export class ImageChecksumError extends ImgbasedError {
  constructor(image: string, expected: string, actual: string, from: string) {
    super(
      'E_IMAGE_CHECKSUM',
      `Image '${image}' does not match its SHA-256 (${from}): expected ${expected}, got ${actual}; nothing was made`,
      { details: { image, expected, actual, from } },
    );
  }
}

/** Content that is none of the image formats imgbased installs. */
export class ImageFormatUnknownError extends ImgbasedError {
  constructor(image: string, seen?: string) {
    super(
      'E_IMAGE_FORMAT_UNKNOWN',
      `Image '${image}' is ${seen ?? 'of an unknown format'}: expected an ext4 image, a squashfs (or liveimg) or a tar archive (plain, gzip, xz or zstd)`,
      { details: { image, seen: seen ?? null } },
    );
  }
}

/** An image URL that could not be downloaded (HTTP error, network, disk). */
export class ImageDownloadError extends ImgbasedError {
  constructor(url: string, reason: string, options: ErrorOptions = {}) {
    super('E_IMAGE_DOWNLOAD', `Could not download '${url}': ${reason}`, { ...options, details: { url, reason } });
  }
}

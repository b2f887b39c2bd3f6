import type { TarCompression } from '@imgbased/core';

/** How many bytes of the start of a file {@link detectMagic} wants (the ISO 9660 mark sits at 32 KiB). */
export const HEADER_BYTES = 64 * 1024;

/**
 * What the first bytes of an image say. A compressed stream is reported as `tar` with its compression:
 * that it holds a tar archive is only known once it is listed.
 */
export type Magic =
  | { readonly kind: 'ext4' }
  | { readonly kind: 'squashfs' }
  | { readonly kind: 'tar'; readonly compression: TarCompression }
  | { readonly kind: 'unknown'; readonly seen?: string };

const EXT_SUPERBLOCK_MAGIC_OFFSET = 1024 + 0x38;
const TAR_MAGIC_OFFSET = 257;
const ISO9660_MARK_OFFSET = 0x8001;

const COMPRESSIONS: readonly { readonly bytes: readonly number[]; readonly compression: TarCompression }[] = [
  { bytes: [0x1f, 0x8b], compression: 'gzip' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], compression: 'xz' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], compression: 'zstd' },
];

/** Formats recognised only to say what they are when refused. */
const UNSUPPORTED: readonly { readonly offset: number; readonly bytes: readonly number[]; readonly seen: string }[] = [
  { offset: 0, bytes: ascii('QFI\xfb'), seen: 'a qcow2 disk image' },
  { offset: 0, bytes: ascii('BZh'), seen: 'bzip2-compressed (use gzip, xz or zstd)' },
  { offset: 0, bytes: ascii('PK\x03\x04'), seen: 'a zip archive' },
  { offset: 0, bytes: ascii('sqsh'), seen: 'a big-endian (pre-4.0) squashfs' },
  { offset: ISO9660_MARK_OFFSET, bytes: ascii('CD001'), seen: 'an ISO 9660 image (take its LiveOS/squashfs.img)' },
];

/** Tells an image's format from its first bytes ({@link HEADER_BYTES} of them, fewer for a short file). */
export function detectMagic(header: Uint8Array): Magic {
  if (header.length === 0) return { kind: 'unknown', seen: 'empty' };
  if (startsWith(header, 0, ascii('hsqs'))) return { kind: 'squashfs' };
  for (const { bytes, compression } of COMPRESSIONS) {
    if (startsWith(header, 0, bytes)) return { kind: 'tar', compression };
  }
  // POSIX ("ustar\0") and GNU ("ustar  \0") archives both start their first header with it. Checked
  // before ext's magic, which sits in a tar's first member's data.
  if (startsWith(header, TAR_MAGIC_OFFSET, ascii('ustar'))) return { kind: 'tar', compression: 'none' };
  if (header[EXT_SUPERBLOCK_MAGIC_OFFSET] === 0x53 && header[EXT_SUPERBLOCK_MAGIC_OFFSET + 1] === 0xef) {
    return { kind: 'ext4' };
  }
  const unsupported = UNSUPPORTED.find(({ offset, bytes }) => startsWith(header, offset, bytes));
  if (unsupported) return { kind: 'unknown', seen: unsupported.seen };
  if (header[510] === 0x55 && header[511] === 0xaa) return { kind: 'unknown', seen: 'a partitioned disk image' };
  return { kind: 'unknown' };
}

function startsWith(data: Uint8Array, offset: number, bytes: readonly number[]): boolean {
  if (data.length < offset + bytes.length) return false;
  return bytes.every((byte, i) => data[offset + i] === byte);
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

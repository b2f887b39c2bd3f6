import { describe, expect, it } from 'vitest';
import { detectMagic, HEADER_BYTES } from './magic.js';

function header(parts: [offset: number, bytes: number[] | string][], length = HEADER_BYTES): Uint8Array {
  const data = new Uint8Array(length);
  for (const [offset, bytes] of parts) {
    data.set(typeof bytes === 'string' ? [...bytes].map((c) => c.charCodeAt(0)) : bytes, offset);
  }
  return data;
}

describe('detectMagic', () => {
  it('finds ext4 by the superblock magic at 1080, little-endian 0xEF53', () => {
    expect(detectMagic(header([[1080, [0x53, 0xef]]]))).toEqual({ kind: 'ext4' });
    expect(detectMagic(header([[1080, [0xef, 0x53]]]))).toEqual({ kind: 'unknown' });
  });

  it('finds squashfs by hsqs at 0, and names the big-endian kind it cannot use', () => {
    expect(detectMagic(header([[0, 'hsqs']]))).toEqual({ kind: 'squashfs' });
    expect(detectMagic(header([[0, 'sqsh']]))).toMatchObject({
      kind: 'unknown',
      seen: expect.stringContaining('big-endian'),
    });
  });

  it('finds a plain tar by ustar at 257, POSIX and GNU', () => {
    expect(detectMagic(header([[257, 'ustar\0']]))).toEqual({ kind: 'tar', compression: 'none' });
    expect(detectMagic(header([[257, 'ustar  \0']]))).toEqual({ kind: 'tar', compression: 'none' });
  });

  it('takes a tar whose first file holds ext magic for a tar', () => {
    expect(
      detectMagic(
        header([
          [257, 'ustar\0'],
          [1080, [0x53, 0xef]],
        ]),
      ),
    ).toEqual({ kind: 'tar', compression: 'none' });
  });

  it('finds gzip, xz and zstd streams', () => {
    expect(detectMagic(header([[0, [0x1f, 0x8b, 0x08]]]))).toEqual({ kind: 'tar', compression: 'gzip' });
    expect(detectMagic(header([[0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]]]))).toEqual({
      kind: 'tar',
      compression: 'xz',
    });
    expect(detectMagic(header([[0, [0x28, 0xb5, 0x2f, 0xfd]]]))).toEqual({ kind: 'tar', compression: 'zstd' });
  });

  it('names formats it refuses', () => {
    expect(detectMagic(new Uint8Array())).toEqual({ kind: 'unknown', seen: 'empty' });
    expect(detectMagic(header([[0x8001, 'CD001']]))).toMatchObject({ seen: expect.stringContaining('ISO 9660') });
    expect(detectMagic(header([[0, 'QFI\xfb']]))).toMatchObject({ seen: 'a qcow2 disk image' });
    expect(detectMagic(header([[0, 'BZh9']]))).toMatchObject({ seen: expect.stringContaining('bzip2') });
    expect(detectMagic(header([[510, [0x55, 0xaa]]]))).toMatchObject({ seen: 'a partitioned disk image' });
    expect(detectMagic(header([[0, 'hello world']]))).toEqual({ kind: 'unknown' });
  });

  it('reads short files without looking past their end', () => {
    expect(detectMagic(header([[0, 'hsq']], 3))).toEqual({ kind: 'unknown' });
    expect(detectMagic(header([[1080, [0x53]]], 1081))).toEqual({ kind: 'unknown' });
  });
});

import { describe, expect, it } from 'vitest';
import { decodePath, encodePath, isTextPath, nulList } from './byte-paths.js';

describe('byte paths', () => {
  it('round-trips any bytes, and decodes valid UTF-8 as text', () => {
    const cases = [
      Buffer.from('/etc/café'),
      Buffer.from([0x2f, 0x63, 0x61, 0x66, 0xe9]),
      Buffer.from([0xff, 0xfe, 0x80, 0xc3]),
      Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate: not UTF-8
      Buffer.from([0xc0, 0xaf]), // overlong '/'
      Buffer.from('😀 \uFFFD'),
      Buffer.from([0xf0, 0x9f, 0x98]), // a cut 4-byte sequence
    ];
    for (const bytes of cases) expect(encodePath(decodePath(bytes))).toEqual(bytes);
    expect(decodePath(Buffer.from('/etc/café'))).toBe('/etc/café');
    expect(decodePath(Buffer.from([0x61, 0xe9, 0x62]))).toBe('a\udce9b');
    expect(decodePath(Buffer.from('xx/etc/a'), 2, 8)).toBe('/etc/a');
    expect(isTextPath('a\udce9b')).toBe(false);
    expect(isTextPath('😀')).toBe(true);
    expect(nulList(['a', 'b\udcff'])).toEqual(Buffer.from([0x61, 0, 0x62, 0xff, 0]));
  });
});

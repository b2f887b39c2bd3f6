import { describe, expect, it } from 'vitest';
import { normaliseSha256, sha256ForFile } from './sha256-file.js';

const A = 'a'.repeat(64);
const B = 'B'.repeat(64);

describe('sha256ForFile', () => {
  it('reads sha256sum lines, text and binary mode, by the file name', () => {
    expect(sha256ForFile(`${A}  other.img\n${B} *Node-1-0.img\n`, 'Node-1-0.img')).toBe('b'.repeat(64));
    expect(sha256ForFile(`${A}  Node-1-0.img\n`, 'Node-1-0.img')).toBe(A);
  });

  it('compares the last path segment of listed names', () => {
    expect(sha256ForFile(`${A}  ./images/Node-1-0.img\n`, 'Node-1-0.img')).toBe(A);
    expect(sha256ForFile(`${A}  Node-1-0.img.part\n`, 'Node-1-0.img')).toBeUndefined();
  });

  it('reads BSD style and a bare sum', () => {
    expect(sha256ForFile(`SHA256 (Node-1-0.img) = ${A}\n`, 'Node-1-0.img')).toBe(A);
    expect(sha256ForFile(`${B}\n`, 'anything.img')).toBe('b'.repeat(64));
  });

  it('unescapes the names of lines sha256sum marked with a backslash', () => {
    expect(sha256ForFile(`\\${A}  odd\\\\name.img\n`, 'odd\\name.img')).toBe(A);
  });

  it('gives nothing when no line fits, or a lone sum names another file', () => {
    expect(sha256ForFile(`${A}  other.img\n`, 'Node-1-0.img')).toBeUndefined();
    expect(sha256ForFile('not a checksum\n', 'Node-1-0.img')).toBeUndefined();
    expect(sha256ForFile(`${A}  \n${B}\n`, 'x.img')).toBeUndefined();
    expect(sha256ForFile(`${'a'.repeat(63)}  x.img\n`, 'x.img')).toBeUndefined();
  });
});

describe('normaliseSha256', () => {
  it('takes 64 hexadecimal digits in any case, and nothing else', () => {
    expect(normaliseSha256(` ${B} `)).toBe('b'.repeat(64));
    expect(normaliseSha256('abc')).toBeUndefined();
    expect(normaliseSha256(`${'g'.repeat(64)}`)).toBeUndefined();
  });
});

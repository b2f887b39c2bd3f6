/**
 * File names on Linux are bytes, not text. Persistence carries them as JavaScript strings that encode
 * back to the same bytes: valid UTF-8 decodes as usual, and every byte that is not part of valid UTF-8
 * becomes the lone surrogate U+DC80..U+DCFF (Python's "surrogateescape"). Such a string must reach the
 * file system as bytes (`encodePath`): Node would write U+FFFD for a lone surrogate.
 */

const ESCAPED = /[\uDC80-\uDCFF]/u;

/** The string of a name's bytes (lossless; see above). */
export function decodePath(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('utf8', start, end);
  // U+FFFD is where the decoder met invalid bytes (or a real U+FFFD): only then decode by hand.
  return text.includes('\uFFFD') ? decodeByHand(buffer, start, end) : text;
}

function decodeByHand(b: Buffer, start: number, end: number): string {
  let out = '';
  let i = start;
  while (i < end) {
    const c = b[i]!;
    const length =
      c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    let point = length === 1 ? c : length === 2 ? c & 0x1f : length === 3 ? c & 0x0f : c & 0x07;
    let ok = length > 0 && i + length <= end;
    for (let k = 1; ok && k < length; k++) {
      const d = b[i + k]!;
      if ((d & 0xc0) !== 0x80) ok = false;
      point = (point << 6) | (d & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and points past U+10FFFF are not valid UTF-8.
    if (ok && length === 3 && (point < 0x800 || (point >= 0xd800 && point <= 0xdfff))) ok = false;
    if (ok && length === 4 && (point < 0x10000 || point > 0x10ffff)) ok = false;
    if (ok) {
      out += String.fromCodePoint(point);
      i += length;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return out;
}

/** The bytes of a name given by decodePath (or any string: valid text encodes as UTF-8). */
export function encodePath(path: string): Buffer {
  if (!ESCAPED.test(path)) return Buffer.from(path, 'utf8');
  const parts: Buffer[] = [];
  let text = '';
  for (const char of path) {
    const unit = char.charCodeAt(0);
    if (char.length === 1 && unit >= 0xdc80 && unit <= 0xdcff) {
      parts.push(Buffer.from(text, 'utf8'), Buffer.of(unit - 0xdc00));
      text = '';
    } else text += char;
  }
  parts.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(parts);
}

/** True when the name is valid UTF-8 (it may go into an argv or be printed as it is). */
export function isTextPath(path: string): boolean {
  return !ESCAPED.test(path);
}

/** Paths as a NUL-separated byte list (tar --null --files-from, rsync --from0, xargs -0). */
export function nulList(paths: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of paths) parts.push(encodePath(p), Buffer.of(0));
  return Buffer.concat(parts);
}

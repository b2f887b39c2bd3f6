/**
 * syslinux's Auxiliary Data Vector: two 512-byte copies at the end of `ldlinux.sys`, each framed by
 * two magic words and checksummed, holding tag/length/value records. Only the boot-once record
 * (tag 1), which ldlinux clears before it boots it, matters to trial boots.
 */
const ADV_SIZE = 512;
const MAGIC_HEAD = 0x5a2d2fa5;
const MAGIC_TAIL = 0xdd28bf64;
/** The 32-bit sum of the checksum word and the data words of a valid copy. */
const MAGIC_SUM = 0xa3041767;
const TAG_BOOT_ONCE = 1;

export const ADV_BYTES = 2 * ADV_SIZE;

function word(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0
  );
}

function validCopy(copy: Uint8Array): boolean {
  if (copy.length !== ADV_SIZE || word(copy, 0) !== MAGIC_HEAD || word(copy, ADV_SIZE - 4) !== MAGIC_TAIL) return false;
  let sum = 0;
  for (let at = 4; at < ADV_SIZE - 4; at += 4) sum = (sum + word(copy, at)) >>> 0;
  return sum === MAGIC_SUM;
}

/** The records of the first valid copy; undefined when neither copy is valid (no ADV: nothing armed). */
export function parseAdv(bytes: Uint8Array): Map<number, string> | undefined {
  const copy = [bytes.subarray(0, ADV_SIZE), bytes.subarray(ADV_SIZE, ADV_BYTES)].find(validCopy);
  if (copy === undefined) return undefined;
  const records = new Map<number, string>();
  for (let at = 8; at < ADV_SIZE - 4; ) {
    const tag = copy[at] ?? 0;
    if (tag === 0) break;
    const length = copy[at + 1] ?? 0;
    records.set(tag, Buffer.from(copy.subarray(at + 2, at + 2 + length)).toString('latin1'));
    at += 2 + length;
  }
  return records;
}

/** The label ldlinux boots once at the next boot, if any. */
export function bootOnceLabel(bytes: Uint8Array): string | undefined {
  const label = parseAdv(bytes)?.get(TAG_BOOT_ONCE);
  return label === undefined || label === '' ? undefined : label;
}

/** `od -An -v -tx1` output back to bytes. */
export function bytesFromOd(text: string): Uint8Array {
  const hex = text.split(/\s+/).filter(Boolean);
  return Uint8Array.from(hex.map((h) => Number.parseInt(h, 16)));
}

/** A valid ADV pair holding `records` (for tests, and to document the format). */
export function buildAdv(records: ReadonlyMap<number, string>): Uint8Array {
  const copy = new Uint8Array(ADV_SIZE);
  const view = new DataView(copy.buffer);
  view.setUint32(0, MAGIC_HEAD, true);
  view.setUint32(ADV_SIZE - 4, MAGIC_TAIL, true);
  let at = 8;
  for (const [tag, value] of records) {
    const data = Buffer.from(value, 'latin1');
    copy[at] = tag;
    copy[at + 1] = data.length;
    copy.set(data, at + 2);
    at += 2 + data.length;
  }
  let sum = 0;
  for (let i = 8; i < ADV_SIZE - 4; i += 4) sum = (sum + view.getUint32(i, true)) >>> 0;
  view.setUint32(4, (MAGIC_SUM - sum) >>> 0, true);
  const pair = new Uint8Array(ADV_BYTES);
  pair.set(copy, 0);
  pair.set(copy, ADV_SIZE);
  return pair;
}

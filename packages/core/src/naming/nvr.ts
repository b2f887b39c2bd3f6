import { NameInvalidError, SizeInvalidError } from '../errors/index.js';
import { rpmvercmp } from './rpmvercmp.js';

/** A base's name: `name-version-release`, as rpm names packages (e.g. `Node-4.5-0.20220307.0`). */
export interface Nvr {
  readonly name: string;
  readonly version: string;
  readonly release: string;
}

/** A layer's name: its base's NVR, `+`, and its index (`Node-4.5-0.20220307.0+1`). */
export interface LayerName {
  readonly base: Nvr;
  readonly index: number;
}

// The original's limit for base names: leaves room for `+N` and for LVM's own suffixes
// within device-mapper's 127-character names.
export const MAX_BASE_NAME_LENGTH = 55;
const MAX_VOLUME_NAME_LENGTH = 127;
const VOLUME_NAME_CHARACTERS = /^[a-zA-Z0-9_.+-]+$/;
// Substrings and prefixes LVM reserves for its internal volumes.
const LVM_RESERVED_SUBSTRINGS = [
  '_cdata',
  '_cmeta',
  '_corig',
  '_cpool',
  '_cvol',
  '_wcorig',
  '_mimage',
  '_mlog',
  '_pmspare',
  '_rimage',
  '_rmeta',
  '_tdata',
  '_tmeta',
  '_vdata',
  '_vorigin',
];
const LVM_RESERVED_PREFIXES = ['snapshot', 'pvmove'];

/** Checks what LVM would refuse, so that a bad name fails before anything is changed. */
export function validateVolumeName(name: string): void {
  if (name.length === 0) throw new NameInvalidError(name, 'it is empty');
  if (name.length > MAX_VOLUME_NAME_LENGTH) {
    throw new NameInvalidError(name, `it is longer than ${MAX_VOLUME_NAME_LENGTH} characters`);
  }
  if (!VOLUME_NAME_CHARACTERS.test(name)) {
    throw new NameInvalidError(name, 'only letters, digits and _ . + - are allowed');
  }
  if (name.startsWith('-')) throw new NameInvalidError(name, 'it may not start with -');
  if (name === '.' || name === '..') throw new NameInvalidError(name, 'it is reserved');
  const reserved = LVM_RESERVED_SUBSTRINGS.find((part) => name.includes(part));
  if (reserved) throw new NameInvalidError(name, `'${reserved}' is reserved by LVM`);
  const prefix = LVM_RESERVED_PREFIXES.find((part) => name.startsWith(part));
  if (prefix) throw new NameInvalidError(name, `names starting with '${prefix}' are reserved by LVM`);
}

/** Parses and validates a base name. */
export function parseNvr(text: string): Nvr {
  validateVolumeName(text);
  if (text.includes('+')) throw new NameInvalidError(text, "'+' is kept for layers (NVR+N)");
  if (text.length > MAX_BASE_NAME_LENGTH) {
    throw new NameInvalidError(text, `a base name may have at most ${MAX_BASE_NAME_LENGTH} characters`);
  }
  const match = /^(.+)-([^-]+)-([^-]+)$/.exec(text);
  if (!match) throw new NameInvalidError(text, 'expected name-version-release, e.g. Node-4.5-0.20220307.0');
  return { name: match[1]!, version: match[2]!, release: match[3]! };
}

export function formatNvr(nvr: Nvr): string {
  return `${nvr.name}-${nvr.version}-${nvr.release}`;
}

/** Parses and validates a layer name (`NVR+N`, N ≥ 1). */
export function parseLayerName(text: string): LayerName {
  validateVolumeName(text);
  const plus = text.lastIndexOf('+');
  if (plus < 0) throw new NameInvalidError(text, 'a layer name ends in +N, e.g. Node-4.5-0.20220307.0+1');
  const indexText = text.slice(plus + 1);
  if (!/^[1-9]\d{0,5}$/.test(indexText)) {
    throw new NameInvalidError(text, 'the layer index after + must be a whole number from 1');
  }
  return { base: parseNvr(text.slice(0, plus)), index: Number(indexText) };
}

export function formatLayerName(layer: LayerName): string {
  return `${formatNvr(layer.base)}+${layer.index}`;
}

export function isLayerName(text: string): boolean {
  return text.includes('+');
}

/** Orders bases as rpm orders packages: by version, then release; the name only breaks ties. */
export function compareNvr(a: Nvr, b: Nvr): number {
  return (
    rpmvercmp(a.version, b.version) ||
    rpmvercmp(a.release, b.release) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

export function compareLayerNames(a: LayerName, b: LayerName): number {
  return compareNvr(a.base, b.base) || a.index - b.index;
}

/** The index the next layer of a base gets: one past the highest, so indexes are never reused. */
export function nextLayerIndex(existing: readonly number[]): number {
  return existing.reduce((max, index) => Math.max(max, index), 0) + 1;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  s: 512,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * Parses a size as LVM does: a number with an optional unit (b, s, k, m, g, t, p; case does not
 * matter, `iB` may follow), binary multiples, and MiB when no unit is given.
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([bskmgtp])?(?:i?b)?\s*$/i.exec(text);
  if (!match) throw new SizeInvalidError(text, 'expected a number with an optional unit, e.g. 512M or 2G');
  const unit = (match[2] ?? 'm').toLowerCase();
  const bytes = Math.round(Number(match[1]) * SIZE_UNITS[unit]!);
  if (bytes <= 0) throw new SizeInvalidError(text, 'it must be larger than zero');
  if (!Number.isSafeInteger(bytes)) throw new SizeInvalidError(text, 'it is too large');
  return bytes;
}

/** Formats bytes in the unit asked for (b, k, m, g, t, p), as `layout --free-space --units` prints. */
export function formatSizeIn(bytes: number, unit: string): string {
  const factor = SIZE_UNITS[unit.toLowerCase()];
  if (factor === undefined) throw new SizeInvalidError(unit, 'unknown unit: use b, k, m, g, t or p');
  const value = bytes / factor;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

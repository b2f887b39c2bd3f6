import type { BlsFile } from '@imgbased/core';

/**
 * How systemd-boot (252, Debian 12's; checked by booting in test-e2e/tests/trial-systemd-boot.e2e.test.ts)
 * orders Type #1 entries and picks `default`: an entry's id is its whole file name, case folded
 * (`imgbased-x+2-1.conf`); entries with no tries left go after all others; then entries with a
 * `sort-key` before those without, by sort key, machine id, version (newest first); then by id
 * (highest version first). `default` is a glob matched against the ids in that order: the first match
 * boots. Used to read which entry a pattern default boots; ties past the sort key are approximated.
 */
export function loaderOrder(files: readonly BlsFile[]): BlsFile[] {
  return [...files].sort(compareEntries);
}

export function fieldOf(file: BlsFile, key: string): string | undefined {
  return file.fields.find(([k]) => k === key)?.[1];
}

function compareEntries(a: BlsFile, b: BlsFile): number {
  const spent = Number(a.tries?.left === 0) - Number(b.tries?.left === 0);
  if (spent !== 0) return spent;
  const keyA = fieldOf(a, 'sort-key');
  const keyB = fieldOf(b, 'sort-key');
  const keyed = Number(keyA === undefined) - Number(keyB === undefined);
  if (keyed !== 0) return keyed;
  if (keyA !== undefined && keyB !== undefined) {
    const byKey =
      byteCompare(keyA, keyB) || byteCompare(fieldOf(a, 'machine-id') ?? '', fieldOf(b, 'machine-id') ?? '');
    if (byKey !== 0) return byKey;
    const byVersion = -versionCompare(fieldOf(a, 'version') ?? '', fieldOf(b, 'version') ?? '');
    if (byVersion !== 0) return byVersion;
  }
  return -versionCompare(a.fileName.toLowerCase(), b.fileName.toLowerCase());
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function versionCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'variant' });
}

/**
 * systemd-boot's `default` match (252's efi_fnmatch) over a case-folded id: `*`, `?`, `\\x`, and `[...]`
 * with ranges (`[0-9c]`; a `]` first or a `-` first or last is literal; no `[!...]`).
 */
export function globMatches(pattern: string, id: string): boolean {
  return fnmatch(pattern.toLowerCase(), 0, id.toLowerCase(), 0, 32);
}

function fnmatch(p: string, pStart: number, h: string, hStart: number, depth: number): boolean {
  if (depth === 0) return false;
  for (let pi = pStart, hi = hStart; ; pi++, hi++) {
    const c = p[pi];
    if (c === undefined) return hi === h.length;
    if (c === '\\') {
      pi++;
      if (p[pi] === undefined || p[pi] !== h[hi]) return false;
    } else if (c === '?') {
      if (hi >= h.length) return false;
    } else if (c === '*') {
      while (p[pi] === '*') pi++;
      for (; hi < h.length; hi++) if (fnmatch(p, pi, h, hi, depth - 1)) return true;
      return pi === p.length;
    } else if (c === '[') {
      if (hi >= h.length) return false;
      const set = bracket(p, pi, h[hi]!);
      if (set === undefined || !set.match) return false;
      pi = set.end;
    } else if (c !== h[hi]) {
      return false;
    }
  }
}

/** A `[...]` set from `p[start]` (the `[`) matched against `char`: whether it matches, and the index of its `]`. */
function bracket(p: string, start: number, char: string): { match: boolean; end: number } | undefined {
  let match = false;
  let canRange = true;
  for (let i = start + 1, first = true; ; i++, first = false) {
    const c = p[i];
    if (c === undefined) return undefined;
    if (c === '\\') {
      i++;
      if (p[i] === undefined) return undefined;
      if (p[i] === char) match = true;
      canRange = true;
      continue;
    }
    if (c === ']' && !first) return { match, end: i };
    if (c === '-' && canRange && !first && p[i + 1] !== ']') {
      const low = p[i - 1]!;
      i++;
      if (p[i] === '\\') i++;
      const high = p[i];
      if (high === undefined) return undefined;
      if (low <= char && char <= high) match = true;
      canRange = false; // [a-c-f] is [-abcf]
      continue;
    }
    if (c === char) match = true;
    canRange = true;
  }
}

export function isGlob(value: string): boolean {
  return /[*?[\\]/.test(value);
}

/** The entry a glob `default` boots: the first match (by file name, as systemd-boot's ids) in its order. */
export function firstMatch(pattern: string, files: readonly BlsFile[]): BlsFile | undefined {
  return loaderOrder(files).find((file) => globMatches(pattern, file.fileName));
}

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

/** systemd-boot's glob (`*`, `?`, `[...]`) over a case-folded id. */
export function globMatches(pattern: string, id: string): boolean {
  const source = pattern
    .toLowerCase()
    .split('')
    .map((c) =>
      c === '*' ? '.*' : c === '?' ? '.' : c === '[' || c === ']' ? c : c.replace(/[.+^${}()|\\-]/g, '\\$&'),
    )
    .join('');
  try {
    return new RegExp(`^${source}$`, 's').test(id.toLowerCase());
  } catch {
    return false;
  }
}

export function isGlob(value: string): boolean {
  return /[*?[]/.test(value);
}

/** The entry a glob `default` boots: the first match (by file name, as systemd-boot's ids) in its order. */
export function firstMatch(pattern: string, files: readonly BlsFile[]): BlsFile | undefined {
  return loaderOrder(files).find((file) => globMatches(pattern, file.fileName));
}

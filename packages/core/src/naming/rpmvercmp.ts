/**
 * Version comparison with rpm's rules (rpmvercmp), so bases order exactly as the packages they are
 * built from: versions split into runs of digits and runs of ASCII letters; other characters only
 * separate; numbers compare numerically and beat letters; `~` sorts before anything (pre-releases),
 * `^` after the version it extends but before any further segment (post-release snapshots).
 * Returns -1, 0 or 1.
 */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && isSeparator(a[i]!)) i++;
    while (j < b.length && isSeparator(b[j]!)) j++;

    const ca = a[i];
    const cb = b[j];
    if (ca === '~' || cb === '~') {
      if (ca !== '~') return 1;
      if (cb !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === '^' || cb === '^') {
      if (ca === undefined) return -1;
      if (cb === undefined) return 1;
      if (ca !== '^') return 1;
      if (cb !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === undefined || cb === undefined) break;

    const numeric = isDigit(ca);
    const take = numeric ? isDigit : isAsciiLetter;
    const startA = i;
    const startB = j;
    while (i < a.length && take(a[i]!)) i++;
    while (j < b.length && take(b[j]!)) j++;
    const segA = a.slice(startA, i);
    const segB = b.slice(startB, j);
    // Segments of different kinds: the numeric one is newer.
    if (segB.length === 0) return numeric ? 1 : -1;

    if (numeric) {
      const numA = segA.replace(/^0+/, '');
      const numB = segB.replace(/^0+/, '');
      if (numA.length !== numB.length) return numA.length > numB.length ? 1 : -1;
      if (numA !== numB) return numA > numB ? 1 : -1;
    } else if (segA !== segB) {
      return segA > segB ? 1 : -1;
    }
  }
  const restA = i < a.length;
  const restB = j < b.length;
  if (!restA && !restB) return 0;
  return restA ? 1 : -1;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isAsciiLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

function isSeparator(c: string): boolean {
  return !isDigit(c) && !isAsciiLetter(c) && c !== '~' && c !== '^';
}

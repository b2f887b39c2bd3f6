import { decodePath } from '@imgbased/system';

/** What one rsync run itemized: paths it would change (with their `%i` flags), and those it would delete. */
export interface Itemized {
  /** Absolute path inside the trees → rsync's change flags (`>f.st......`, `cL+++++++++`, `.f...p.....`). */
  readonly changed: ReadonlyMap<string, string>;
  /** Absolute paths inside the trees, from `*deleting` lines. */
  readonly deleted: readonly string[];
}

/**
 * Parses `--out-format='%i %n'` lines, names made absolute, sorted. rsync prints a name's unusual bytes
 * (in the C locale every byte above 0x7f, and control characters) as `\#ooo`, so the output is ASCII:
 * names are rebuilt as bytes and decoded losslessly (decodePath). Lines whose only change is a time
 * (`.d..t......`, `.f..t......`) are left out: a time alone is no change of the admin's or the vendor's.
 * `*deleting   NAME` lines are deletions, never copies.
 */
export function parseItemized(stdout: string): Itemized {
  const changed = new Map<string, string>();
  const deleted = new Set<string>();
  for (const line of stdout.split('\n')) {
    const deletion = /^\*deleting +(.+)$/.exec(line);
    if (deletion) {
      const path = absolute(deletion[1]!);
      if (path !== undefined) deleted.add(path);
      continue;
    }
    const match = /^([<>ch.][fdLDS][^ ]{9,}) (.+)$/.exec(line);
    if (!match) continue;
    const [, flags, name] = match as unknown as [string, string, string];
    if (flags[0] === '.' && /^[.tT]*$/.test(flags.slice(2))) continue;
    const path = absolute(name);
    if (path !== undefined) changed.set(path, flags);
  }
  return { changed: new Map([...changed].sort(([a], [b]) => (a < b ? -1 : 1))), deleted: [...deleted].sort() };
}

function absolute(name: string): string | undefined {
  const trimmed = name.replace(/\/$/, '');
  if (trimmed === '.' || trimmed === '') return undefined;
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of trimmed.matchAll(/\\#([0-7]{3})/g)) {
    parts.push(Buffer.from(trimmed.slice(last, m.index), 'utf8'), Buffer.of(Number.parseInt(m[1]!, 8)));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(trimmed.slice(last), 'utf8'));
  return `/${decodePath(Buffer.concat(parts))}`;
}

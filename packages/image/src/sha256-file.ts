const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** A SHA-256 as given by a user: 64 hexadecimal digits, any case; returned in lower case, or undefined. */
export function normaliseSha256(text: string): string | undefined {
  const trimmed = text.trim();
  return SHA256_HEX.test(trimmed) ? trimmed.toLowerCase() : undefined;
}

/**
 * The SHA-256 a checksum file gives for `fileName`. Reads `sha256sum` output (`HEX  NAME`, `HEX *NAME`,
 * lines starting with `\` carrying escaped names), BSD style (`SHA256 (NAME) = HEX`) and a bare `HEX`.
 * Names are compared by their last path segment. A file with one sum and no name gives that sum;
 * otherwise only a line naming `fileName` does. Undefined when none fits.
 */
export function sha256ForFile(text: string, fileName: string): string | undefined {
  const entries = text
    .split('\n')
    .map(parseLine)
    .filter((entry) => entry !== undefined);
  const named = entries.find((entry) => entry.name !== undefined && lastSegment(entry.name) === fileName);
  if (named) return named.sha256;
  if (entries.length === 1 && entries[0]!.name === undefined) return entries[0]!.sha256;
  return undefined;
}

function parseLine(raw: string): { sha256: string; name?: string } | undefined {
  let line = raw.replace(/\r$/, '');
  const escaped = line.startsWith('\\');
  if (escaped) line = line.slice(1);
  const bsd = /^SHA256 ?\((.*)\) ?= ?([0-9a-fA-F]{64})\s*$/.exec(line);
  if (bsd) return { sha256: bsd[2]!.toLowerCase(), name: bsd[1]! };
  const gnu = /^([0-9a-fA-F]{64})(?:[ \t]+[* ]?(.*))?$/.exec(line.trimEnd());
  if (!gnu) return undefined;
  const name = gnu[2];
  if (name === undefined || name === '') return { sha256: gnu[1]!.toLowerCase() };
  return { sha256: gnu[1]!.toLowerCase(), name: escaped ? unescapeName(name) : name };
}

/** sha256sum escapes `\` and newline in names as `\\` and `\n` (and marks the line with a leading `\`). */
function unescapeName(name: string): string {
  return name.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

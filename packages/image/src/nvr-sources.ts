import { parseNvr } from '@imgbased/core';

/**
 * Parses os-release(5): `KEY=value` lines, values unquoted, 'single-' or "double-quoted" (where `\`
 * escapes `$ " \ \``), `#` comments. Lines that are not assignments are skipped, as the format asks.
 */
export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    fields.set(match[1]!, unquote(match[2]!));
  }
  return fields;
}

function unquote(value: string): string {
  const quote = value[0];
  if (quote === "'") return value.slice(1, value.endsWith("'") && value.length > 1 ? -1 : undefined);
  let out = '';
  const body = quote === '"' ? value.slice(1) : value;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) out += body[++i];
    else if (c === '"' && quote === '"') break;
    else out += c;
  }
  return out;
}

/**
 * The NVR an image's os-release names, and the field(s) it came from:
 * - `IMAGE_NVR=Node-4.7-0.1` (imgbased's own field, written by image builders), else
 * - `IMAGE_ID=Node` + `IMAGE_VERSION=4.7-0.1` (os-release's standard image fields) when together they
 *   read as name-version-release with a version starting with a digit.
 * Undefined when neither says anything; the caller validates the NVR (an IMAGE_NVR that is not one is an
 * error, not a reason to look elsewhere).
 */
export function nvrFromOsRelease(fields: ReadonlyMap<string, string>): { nvr: string; field: string } | undefined {
  const declared = fields.get('IMAGE_NVR')?.trim();
  if (declared) return { nvr: declared, field: 'IMAGE_NVR' };
  const id = fields.get('IMAGE_ID')?.trim();
  const version = fields.get('IMAGE_VERSION')?.trim();
  if (id && version) {
    const nvr = `${id}-${version}`;
    if (isNvr(nvr)) return { nvr, field: 'IMAGE_ID and IMAGE_VERSION' };
  }
  return undefined;
}

/** Extensions an image file name may end in, taken off (repeatedly) before reading it as an NVR. */
const IMAGE_EXTENSIONS = new Set([
  'img',
  'raw',
  'ext2',
  'ext3',
  'ext4',
  'squashfs',
  'sqfs',
  'sfs',
  'liveimg',
  'tar',
  'tgz',
  'txz',
  'tzst',
  'gz',
  'xz',
  'zst',
  'zstd',
]);

/**
 * `Node-4.7-0.1.squashfs.img` → `Node-4.7-0.1`; undefined when what is left is no NVR whose version starts
 * with a digit.
 */
export function nvrFromFileName(fileName: string): string | undefined {
  let name = fileName;
  for (;;) {
    const dot = name.lastIndexOf('.');
    if (dot <= 0 || !IMAGE_EXTENSIONS.has(name.slice(dot + 1).toLowerCase())) break;
    name = name.slice(0, dot);
  }
  return isNvr(name) ? name : undefined;
}

/**
 * A name read as an NVR where it was not declared as one: parseNvr's rule, and a version that starts with
 * a digit, so that `ovirt-node-ng-image` is no NVR (name `ovirt-node`, version `ng`).
 */
function isNvr(text: string): boolean {
  try {
    return /^\d/.test(parseNvr(text).version);
  } catch {
    return false;
  }
}

import type { BootEntry, DesiredBootEntry } from '../contracts/bootloader.js';
import type { BootFileOps } from '../contracts/bootloader-plugin.js';
import { layerOfOptions, splitKernelArgs } from './entries.js';
import { removeFileDurably, replaceFileDurably } from './files.js';

/**
 * Boot Loader Specification Type #1 entries (`loader/entries/*.conf`): what systemd-boot reads, and
 * grub with `blscfg`. Parsing keeps every line (unknown keys too), so an entry imgbased did not write
 * is listed exactly as it is and never rewritten.
 */

export interface BlsFile {
  /** `ID[+LEFT[-DONE]].conf` */
  readonly fileName: string;
  readonly id: string;
  readonly tries: { readonly left: number; readonly done: number } | undefined;
  /** Key/value lines in order; repeatable keys (initrd, options) appear once per line. */
  readonly fields: readonly (readonly [string, string])[];
  /** The file's text as read (absent for a file not read from disk). */
  readonly text?: string | undefined;
}

export class BlsSyntaxError extends Error {}

const COUNTER = /^(.+?)\+(\d+)(?:-(\d+))?$/;

/** Splits `NAME+LEFT[-DONE].conf` as systemd-boot does. */
export function parseBlsFileName(fileName: string): { id: string; tries: BlsFile['tries'] } | undefined {
  if (!fileName.endsWith('.conf') || fileName.startsWith('.')) return undefined;
  const stem = fileName.slice(0, -'.conf'.length);
  if (stem === '' || !/^[A-Za-z0-9+\-_.]+$/.test(stem)) return undefined;
  const counted = COUNTER.exec(stem);
  if (!counted) return { id: stem, tries: undefined };
  return { id: counted[1]!, tries: { left: Number(counted[2]), done: Number(counted[3] ?? 0) } };
}

export function blsFileName(id: string, tries?: { left: number; done: number } | undefined, width = 1): string {
  if (tries === undefined) return `${id}.conf`;
  const pad = (n: number) => String(n).padStart(width, '0');
  return `${id}+${pad(tries.left)}${tries.done > 0 ? `-${pad(tries.done)}` : ''}.conf`;
}

/** Parses an entry file; BlsSyntaxError when it is not one (binary data, bad keys, no kernel). */
export function parseBlsEntry(fileName: string, text: string): BlsFile {
  const name = parseBlsFileName(fileName);
  if (!name) throw new BlsSyntaxError(`not a BLS entry file name: ${fileName}`);
  if (text.includes('\0') || text.includes('\uFFFD')) throw new BlsSyntaxError('binary data in a text entry');
  const fields: [string, string][] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z][A-Za-z0-9_-]*)(?:\s+(.*))?$/.exec(line);
    if (!match) throw new BlsSyntaxError(`line ${index + 1}: not 'key value': ${line.slice(0, 60)}`);
    fields.push([match[1]!, (match[2] ?? '').trim()]);
  }
  if (!fields.some(([k]) => k === 'linux' || k === 'efi' || k === 'uki')) {
    throw new BlsSyntaxError('no linux, efi or uki line');
  }
  return { fileName, id: name.id, tries: name.tries, fields, text };
}

function first(file: BlsFile, key: string): string | undefined {
  return file.fields.find(([k]) => k === key)?.[1];
}

/** The entry as the contract shows it. */
export function blsToBootEntry(file: BlsFile): BootEntry {
  const options = file.fields.filter(([k]) => k === 'options').flatMap(([, v]) => splitKernelArgs(v));
  return {
    id: file.id,
    title: first(file, 'title') ?? file.id,
    version: first(file, 'version') ?? '',
    kernel: first(file, 'linux') ?? first(file, 'efi') ?? first(file, 'uki') ?? '',
    initrd: first(file, 'initrd'),
    options,
    layer: layerOfOptions(options),
    ...(file.tries === undefined ? {} : { tries: file.tries }),
  };
}

/** Renders imgbased's entry, in the key order of the specification. */
export function renderBlsEntry(entry: {
  readonly title: string;
  readonly version: string;
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly options: readonly string[];
}): string {
  const lines = [
    '# Written by imgbased: edit with imgbase, your changes here are replaced',
    `title ${entry.title}`,
    `version ${entry.version}`,
    `linux ${entry.kernel}`,
    ...(entry.initrd === undefined ? [] : [`initrd ${entry.initrd}`]),
    `options ${entry.options.join(' ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

type RenderableEntry = Parameters<typeof renderBlsEntry>[0];

/** The keys imgbased writes; any other key of an entry file (grub_users, grub_arg, grub_class, id…) is not its own. */
const OWN_BLS_KEYS = ['title', 'version', 'linux', 'initrd', 'options'];

/**
 * The text of `entry` in a file that is there already (`existing`, e.g. one the original wrote with
 * grubby): the file as it is when it says the same, else the file with imgbased's keys set and every
 * other line kept in place (grub_users, grub_arg --unrestricted, grub_class: dropping those would
 * change who may boot the entry). Without `existing`, imgbased's own rendering.
 */
export function renderBlsKeeping(entry: RenderableEntry, existing: BlsFile | undefined): string {
  if (existing === undefined) return renderBlsEntry(entry);
  const now = blsToBootEntry(existing);
  const same =
    now.title === entry.title &&
    now.version === entry.version &&
    now.kernel === entry.kernel &&
    now.initrd === entry.initrd &&
    now.options.join(' ') === entry.options.join(' ');
  if (same && existing.text !== undefined) return existing.text;
  const values: Record<string, string | undefined> = {
    title: entry.title,
    version: entry.version,
    linux: entry.kernel,
    initrd: entry.initrd,
    options: entry.options.join(' '),
  };
  const lines: string[] = [];
  for (const [key, value] of existing.fields) {
    if (!OWN_BLS_KEYS.includes(key)) lines.push(`${key} ${value}`.trimEnd());
    else if (key in values) {
      if (values[key] !== undefined) lines.push(`${key} ${values[key]}`);
      delete values[key]; // a repeated initrd/options line is folded into the first
    }
  }
  for (const key of OWN_BLS_KEYS) if (values[key] !== undefined) lines.push(`${key} ${values[key]}`);
  return `${lines.join('\n')}\n`;
}

/** The rendered text of a desired entry whose files land at `paths`. */
export function renderDesiredBls(
  entry: DesiredBootEntry,
  paths: { kernel: string; initrd: string | undefined },
): string {
  return renderBlsEntry({ ...entry, ...paths });
}

/** Every entry file of a BLS directory; BlsSyntaxError (naming the file) for one that is corrupted. */
export async function readBlsDirectory(ops: BootFileOps, directory: string): Promise<BlsFile[]> {
  const out: BlsFile[] = [];
  for (const name of (await ops.list(directory)).sort()) {
    if (parseBlsFileName(name) === undefined) continue;
    const text = (await ops.read(`${directory}/${name}`)) ?? '';
    try {
      out.push(parseBlsEntry(name, text));
    } catch (error) {
      throw new BlsSyntaxError(`${name}: ${(error as Error).message}`);
    }
  }
  return out;
}

/**
 * Makes imgbased's files in a BLS directory exactly `wanted`: new and changed files first (each
 * written new, fsynced, renamed), then imgbased's files that left the set. Foreign files are never
 * touched. Returns how many files changed (one change is atomic; more are not, as a set).
 */
export async function syncBlsDirectory(
  ops: BootFileOps,
  directory: string,
  previous: readonly BlsFile[],
  wanted: readonly { readonly fileName: string; readonly text: string }[],
): Promise<number> {
  let changed = 0;
  await ops.mkdir(directory);
  for (const file of wanted) {
    if ((await ops.read(`${directory}/${file.fileName}`)) === file.text) continue;
    await replaceFileDurably(ops, `${directory}/${file.fileName}`, file.text);
    changed++;
  }
  const keep = new Set(wanted.map((f) => f.fileName));
  for (const file of previous) {
    if (keep.has(file.fileName) || blsToBootEntry(file).layer === undefined) continue;
    await removeFileDurably(ops, `${directory}/${file.fileName}`);
    changed++;
  }
  return changed;
}

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are grub script, not JavaScript templates
import type { BootEntry } from '@imgbased/core';
import { layerOfOptions, splitKernelArgs } from '@imgbased/core';

/**
 * The menu file for grubs without `blscfg` (Debian's 2.06): one `menuentry` per imgbased entry with
 * `--id` set to the entry id, and the environment block logic that makes `saved_entry` the default
 * and `next_entry` a one-shot. grub.cfg sources it (`source ${prefix}/imgbased.cfg`, last).
 */

export const MENU_HEADER =
  '# Written by imgbased from its boot entries; sourced by grub.cfg. Change it with imgbase boot.';

const ENV_LOGIC = [
  'if [ -s "${prefix}/grubenv" ]; then',
  '  load_env',
  'fi',
  'if [ "${next_entry}" ]; then',
  '  set default="${next_entry}"',
  '  set next_entry=',
  '  save_env next_entry',
  // A one-shot wins over an armed trial (the countdown in 42_imgbased skips this boot).
  '  set boot_once=true',
  'elif [ "${saved_entry}" ]; then',
  '  set default="${saved_entry}"',
  'fi',
];

export class GrubMenuSyntaxError extends Error {}

/** Quotes a word for grub's shell-like parser: single quotes unless it is plain. */
export function grubQuote(word: string): string {
  if (/^[A-Za-z0-9._,:/=+@%-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function unquote(word: string): string {
  return word.replace(/'([^']*)'|\\(.)/g, (_m, quoted: string | undefined, escaped: string | undefined) =>
    quoted !== undefined ? quoted : (escaped ?? ''),
  );
}

/** Splits a grub command line into words, honouring single quotes and backslashes. */
function words(line: string): string[] {
  return (line.match(/(?:[^\s'\\]+|'[^']*'|\\.)+/g) ?? []).map(unquote);
}

export function renderGrubMenu(
  entries: readonly {
    readonly id: string;
    readonly title: string;
    readonly version: string;
    readonly kernel: string;
    readonly initrd: string | undefined;
    readonly options: readonly string[];
  }[],
): string {
  const out = [MENU_HEADER, ...ENV_LOGIC];
  for (const e of entries) {
    out.push(
      '',
      `menuentry ${grubQuote(e.title)} --id ${grubQuote(e.id)} {`,
      `\t# version ${e.version}`,
      `\tlinux ${[e.kernel, ...e.options].map(grubQuote).join(' ')}`,
      ...(e.initrd === undefined ? [] : [`\tinitrd ${grubQuote(e.initrd)}`]),
      '}',
    );
  }
  return `${out.join('\n')}\n`;
}

/** Reads back a menu file imgbased wrote; GrubMenuSyntaxError when it is not one. */
export function parseGrubMenu(text: string): BootEntry[] {
  if (text.includes('\0') || text.includes('\uFFFD')) throw new GrubMenuSyntaxError('binary data in the file');
  if (!text.startsWith(MENU_HEADER)) throw new GrubMenuSyntaxError('not written by imgbased (header missing)');
  const entries: BootEntry[] = [];
  let current:
    | { id: string; title: string; version: string; kernel?: string; initrd?: string; options: string[] }
    | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line.startsWith('menuentry ')) {
      if (current) throw new GrubMenuSyntaxError(`line ${index + 1}: menuentry inside a menuentry`);
      if (!line.endsWith('{')) throw new GrubMenuSyntaxError(`line ${index + 1}: menuentry without '{'`);
      const w = words(line.slice(0, -1));
      const idAt = w.indexOf('--id');
      if (w.length < 2 || idAt < 0 || w[idAt + 1] === undefined) {
        throw new GrubMenuSyntaxError(`line ${index + 1}: menuentry without a title and --id`);
      }
      current = { id: w[idAt + 1]!, title: w[1]!, version: '', options: [] };
    } else if (current && line === '}') {
      if (current.kernel === undefined) throw new GrubMenuSyntaxError(`line ${index + 1}: menuentry without linux`);
      entries.push({
        id: current.id,
        title: current.title,
        version: current.version,
        kernel: current.kernel,
        initrd: current.initrd,
        options: current.options,
        layer: layerOfOptions(current.options),
      });
      current = undefined;
    } else if (current) {
      if (line.startsWith('# version ')) current.version = line.slice('# version '.length).trim();
      else if (line.startsWith('linux ')) {
        const [kernel, ...options] = words(line.slice('linux '.length));
        current.kernel = kernel;
        current.options = options.flatMap((o) => splitKernelArgs(o));
      } else if (line.startsWith('initrd ')) current.initrd = words(line.slice('initrd '.length))[0];
    } else if (line === '}') {
      throw new GrubMenuSyntaxError(`line ${index + 1}: '}' outside a menuentry`);
    }
  }
  if (current) throw new GrubMenuSyntaxError(`menuentry '${current.title}' is not closed`);
  return entries;
}

/** `menuentry` titles and ids of a grub.cfg, for listing entries imgbased did not write (read only). */
export function foreignGrubEntries(grubCfg: string): BootEntry[] {
  const entries: BootEntry[] = [];
  const lines = grubCfg.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line.startsWith('menuentry ')) continue;
    const w = words(line.replace(/\{\s*$/, ''));
    const idAt = w.indexOf('--id');
    const optionIdAt = w.findIndex((x) => x.startsWith('$menuentry_id_option'));
    const id = idAt >= 0 ? w[idAt + 1] : optionIdAt >= 0 ? w[optionIdAt + 1] : w[1];
    let kernel = '';
    let initrd: string | undefined;
    let options: string[] = [];
    for (const inner of lines.slice(index + 1)) {
      const t = inner.trim();
      if (t.startsWith('menuentry ') || t === '}') break;
      if (/^linux(16|efi)?\s/.test(t)) {
        const [k, ...o] = words(t.replace(/^\S+\s+/, ''));
        kernel = k ?? '';
        options = o;
      } else if (/^initrd(16|efi)?\s/.test(t)) initrd = words(t.replace(/^\S+\s+/, ''))[0];
    }
    entries.push({ id: id ?? w[1] ?? '', title: w[1] ?? '', version: '', kernel, initrd, options, layer: undefined });
  }
  return entries;
}

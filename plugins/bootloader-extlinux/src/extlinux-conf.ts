import { type BootEntry, layerOfOptions, splitKernelArgs } from '@imgbased/core';

/**
 * extlinux.conf: global directives, then one `LABEL` block per entry. imgbased's blocks (those whose
 * APPEND carries `img.bootid=`) are rendered from its entries; every other block, and every global
 * line but DEFAULT, is kept exactly as it was.
 */

export interface ExtlinuxBlock {
  readonly label: string;
  /** The block's lines after `LABEL`, as they were. */
  readonly lines: readonly string[];
  readonly entry: BootEntry;
}

export interface ExtlinuxConf {
  /** Global lines (comments included) other than DEFAULT and imgbased's own header comment. */
  readonly header: readonly string[];
  readonly defaultLabel: string | undefined;
  readonly blocks: readonly ExtlinuxBlock[];
}

/** What rendering needs: the parsed blocks, or new ones without their entry. */
export type ExtlinuxConfToRender = Omit<ExtlinuxConf, 'blocks'> & {
  readonly blocks: readonly Pick<ExtlinuxBlock, 'label' | 'lines'>[];
};

export class ExtlinuxSyntaxError extends Error {}

const HEADER_COMMENT = '# Written by imgbased. LABEL blocks without img.bootid= are kept as they are.';
const BOOTABLE = new Set([
  'linux',
  'kernel',
  'com32',
  'config',
  'localboot',
  'boot',
  'bss',
  'pxe',
  'fdimage',
  'comboot',
]);

function split(line: string): { keyword: string; rest: string } {
  const match = /^(\S+)\s*(.*)$/.exec(line.trim());
  return { keyword: (match?.[1] ?? '').toLowerCase(), rest: (match?.[2] ?? '').trim() };
}

function blockEntry(label: string, lines: readonly string[]): BootEntry {
  let title = label;
  let kernel: string | undefined;
  let initrd: string | undefined;
  let options: string[] = [];
  for (const line of lines) {
    const { keyword, rest } = split(line);
    if (keyword === 'menu' && /^label\s/i.test(rest)) title = rest.replace(/^label\s+/i, '');
    else if (BOOTABLE.has(keyword)) kernel ??= rest;
    else if (keyword === 'initrd') initrd = rest.split(',')[0];
    else if (keyword === 'append') {
      const args = splitKernelArgs(rest);
      const inline = args.find((a) => a.startsWith('initrd='));
      if (inline && initrd === undefined) initrd = inline.slice('initrd='.length).split(',')[0];
      options = args.filter((a) => !a.startsWith('initrd='));
    }
  }
  const version = /\(([^()]+)\)\s*$/.exec(title)?.[1] ?? '';
  return { id: label, title, version, kernel: kernel ?? '', initrd, options, layer: layerOfOptions(options) };
}

export function parseExtlinuxConf(text: string): ExtlinuxConf {
  if (text.includes('\0') || text.includes('\uFFFD')) throw new ExtlinuxSyntaxError('binary data in the file');
  const header: string[] = [];
  const blocks: { label: string; lines: string[]; line: number }[] = [];
  let defaultLabel: string | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed !== '' && !trimmed.startsWith('#') && !/^[A-Za-z]/.test(trimmed)) {
      throw new ExtlinuxSyntaxError(`line ${index + 1}: not a directive: ${trimmed.slice(0, 60)}`);
    }
    const { keyword, rest } = split(trimmed);
    if (keyword === 'label') {
      if (rest === '') throw new ExtlinuxSyntaxError(`line ${index + 1}: LABEL without a name`);
      blocks.push({ label: rest, lines: [], line: index + 1 });
    } else if (blocks.length > 0) {
      blocks.at(-1)!.lines.push(line);
    } else if (keyword === 'default') {
      defaultLabel = rest;
    } else if (trimmed !== HEADER_COMMENT) {
      header.push(line);
    }
  }
  for (const block of blocks) {
    if (!block.lines.some((l) => BOOTABLE.has(split(l).keyword))) {
      throw new ExtlinuxSyntaxError(`line ${block.line}: LABEL ${block.label} boots nothing (no LINUX or KERNEL)`);
    }
  }
  while (header.length > 0 && header.at(-1)!.trim() === '') header.pop();
  return {
    header,
    defaultLabel,
    blocks: blocks.map((b) => {
      while (b.lines.length > 0 && b.lines.at(-1)!.trim() === '') b.lines.pop();
      return { label: b.label, lines: b.lines, entry: blockEntry(b.label, b.lines) };
    }),
  };
}

/** The lines of one of imgbased's blocks. */
export function renderBlockLines(entry: {
  readonly title: string;
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly options: readonly string[];
}): string[] {
  return [
    `\tMENU LABEL ${entry.title}`,
    `\tLINUX ${entry.kernel}`,
    ...(entry.initrd === undefined ? [] : [`\tINITRD ${entry.initrd}`]),
    `\tAPPEND ${entry.options.join(' ')}`,
  ];
}

export function renderExtlinuxConf(conf: ExtlinuxConfToRender): string {
  const header = conf.header.length > 0 ? conf.header : ['PROMPT 0', 'TIMEOUT 10'];
  const out = [HEADER_COMMENT, ...header];
  if (conf.defaultLabel !== undefined) out.push(`DEFAULT ${conf.defaultLabel}`);
  for (const block of conf.blocks) out.push('', `LABEL ${block.label}`, ...block.lines);
  return `${out.join('\n')}\n`;
}

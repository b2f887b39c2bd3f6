// @ts-check
/**
 * A minimal imgbased bootloader plugin, built outside imgbased's repository: syslinux's extlinux.conf.
 * It imports nothing of imgbased at run time (a module in the plugin directory could not resolve it):
 * everything it touches comes through `create(services)`. The types below are for editors and tsc only.
 *
 * @import { BootConfiguration, BootEntry, BootloaderPlugin, BootloaderPluginDefinition, RenderedBootEntry, SettingsSchema } from '@imgbased/core'
 * @typedef {{ menuTitle: string }} Settings
 * @typedef {{ label: string, lines: string[], entry: BootEntry }} Block one `LABEL` block, its lines as read
 * @typedef {{ header: string[], blocks: Block[] }} Conf what `read` hands back to `write`
 */

/** The kernel argument core puts on every entry imgbased writes: the blocks this plugin owns carry it. */
const BOOT_ID = 'img.bootid=';

/**
 * `[bootloader.minimal-extlinux]`, checked by a Standard Schema written by hand (zod or valibot would
 * do too): one optional setting, `menu_title`. Unknown keys are refused, naming the key.
 * @type {SettingsSchema<Settings>}
 */
const settingsSchema = {
  '~standard': {
    version: 1,
    vendor: 'imgbased-bootloader-minimal-extlinux',
    validate(value) {
      const section = /** @type {Record<string, unknown>} */ (value ?? {});
      for (const key of Object.keys(section)) {
        if (key !== 'menu_title') return { issues: [{ message: 'unknown setting', path: [key] }] };
      }
      const title = section.menu_title ?? 'imgbased';
      if (typeof title !== 'string' || title.trim() === '' || /[\r\n]/.test(title)) {
        return { issues: [{ message: 'must be one line of text', path: ['menu_title'] }] };
      }
      return { value: { menuTitle: title.trim() } };
    },
  },
};

/** A line's keyword (lower case) and the rest. */
function split(/** @type {string} */ line) {
  const match = /^(\S+)\s*(.*)$/.exec(line.trim());
  return { keyword: (match?.[1] ?? '').toLowerCase(), rest: (match?.[2] ?? '').trim() };
}

/** What a block boots, as core's BootEntry: `layer` set only on blocks imgbased wrote. */
function entryOf(/** @type {string} */ label, /** @type {string[]} */ lines) {
  /** @type {{ title: string, kernel: string, initrd: string | undefined, options: string[] }} */
  const entry = { title: label, kernel: '', initrd: undefined, options: [] };
  for (const line of lines) {
    const { keyword, rest } = split(line);
    if (keyword === 'menu' && /^label\s/i.test(rest)) entry.title = rest.replace(/^label\s+/i, '');
    else if (keyword === 'linux' || keyword === 'kernel') entry.kernel = rest;
    else if (keyword === 'initrd') entry.initrd = rest;
    else if (keyword === 'append') entry.options = rest.split(/\s+/).filter(Boolean);
  }
  const bootId = entry.options.findLast((o) => o.startsWith(BOOT_ID));
  const version = /\(([^()]+)\)$/.exec(entry.title)?.[1] ?? '';
  return { id: label, version, ...entry, layer: bootId?.slice(BOOT_ID.length) || undefined };
}

/** Parses extlinux.conf; throws on anything it cannot read (core then refuses to touch the file). */
function parse(/** @type {string} */ text) {
  if (text.includes('\0')) throw new Error('binary data in the file');
  /** @type {string[]} */
  const header = [];
  /** @type {{ label: string, lines: string[] }[]} */
  const raw = [];
  for (const [index, line] of text.split('\n').entries()) {
    const { keyword, rest } = split(line);
    if (keyword !== '' && !keyword.startsWith('#') && !/^[a-z]/.test(keyword)) {
      throw new Error(`line ${index + 1} is not a directive: ${line.trim().slice(0, 60)}`);
    }
    if (keyword === 'label' && rest === '') throw new Error(`line ${index + 1}: LABEL without a name`);
    if (keyword === 'label') raw.push({ label: rest, lines: [line] });
    else (raw.at(-1)?.lines ?? header).push(line);
  }
  /** @type {Block[]} */
  const blocks = raw.map(({ label, lines }) => {
    while (lines.at(-1)?.trim() === '') lines.pop();
    const entry = entryOf(label, lines.slice(1));
    if (entry.kernel === '') throw new Error(`LABEL ${label} boots nothing (no LINUX or KERNEL)`);
    return { label, lines, entry };
  });
  return { header, blocks };
}

/** Global lines this plugin writes itself; every other one is kept as it was. */
function isOwnGlobal(/** @type {string} */ line) {
  const { keyword, rest } = split(line);
  return keyword === 'default' || (keyword === 'menu' && /^title\b/i.test(rest));
}

/** The header with this plugin's DEFAULT and MENU TITLE, then imgbased's blocks, then the others as they were. */
function render(
  /** @type {string[]} */ header,
  /** @type {string | undefined} */ defaultId,
  /** @type {string[][]} */ blocks,
  /** @type {Settings} */ { menuTitle },
) {
  const kept = header.filter((line) => !isOwnGlobal(line));
  while (kept.at(-1)?.trim() === '') kept.pop();
  const globals = kept.length > 0 ? kept : ['PROMPT 0', 'TIMEOUT 10'];
  const lines = [...globals, `MENU TITLE ${menuTitle}`, ...(defaultId ? [`DEFAULT ${defaultId}`] : [])];
  return `${[lines, ...blocks].map((b) => b.join('\n')).join('\n\n')}\n`;
}

/** One block imgbased wants. */
function block(/** @type {RenderedBootEntry} */ e) {
  const initrd = e.initrd === undefined ? [] : [`\tINITRD ${e.initrd}`];
  return [
    `LABEL ${e.id}`,
    `\tMENU LABEL ${e.title}`,
    `\tLINUX ${e.kernel}`,
    ...initrd,
    `\tAPPEND ${e.options.join(' ')}`,
  ];
}

/** @type {BootloaderPluginDefinition<Settings>} */
const minimalExtlinux = {
  kind: 'bootloader',
  name: 'minimal-extlinux',
  contractVersion: 1,
  probeOrder: 15,
  description: 'extlinux.conf, the minimal example plugin of docs/plugins.md',
  settings: settingsSchema,
  create({ files, bootDir, settings }) {
    const root = bootDir === '/' ? '' : bootDir;
    const config = `${root}/extlinux/extlinux.conf`;

    /** Swaps `text` in atomically (write new, fsync, rename, fsync the directory), unless nothing changed. */
    async function swapIn(/** @type {string} */ text) {
      if ((await files.read(config)) === text) return { filesReplaced: 0 };
      await files.mkdir(`${root}/extlinux`);
      await files.replace(config, text);
      return { filesReplaced: 1 };
    }

    /** @type {BootloaderPlugin<Conf>} */
    const plugin = {
      name: 'minimal-extlinux',
      async detect() {
        return (await files.exists(`${root}/extlinux/ldlinux.sys`)) || (await files.exists(config));
      },
      async locate() {
        return { root: bootDir, config };
      },
      async read() {
        const text = await files.read(config);
        const conf = text === undefined ? { header: [], blocks: [] } : parse(text);
        const defaultLine = conf.header.findLast((l) => split(l).keyword === 'default');
        /** @type {BootConfiguration<Conf>} */
        const configuration = {
          entries: conf.blocks.map((b) => b.entry),
          defaultId: defaultLine === undefined ? undefined : split(defaultLine).rest,
          nextId: undefined,
          parsed: conf,
        };
        return configuration;
      },
      async write(_location, change, before) {
        const foreign = before.parsed.blocks.filter((b) => b.entry.layer === undefined).map((b) => b.lines);
        const blocks = [...change.entries.map(block), ...foreign];
        return swapIn(render(before.parsed.header, change.defaultId, blocks, settings));
      },
      async writeDefault(_location, entryId, before) {
        const blocks = before.parsed.blocks.map((b) => b.lines);
        return swapIn(render(before.parsed.header, entryId, blocks, settings));
      },
    };
    return plugin;
  },
};

export default minimalExtlinux;

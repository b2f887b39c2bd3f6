import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BootConfiguration,
  type BootEntry,
  type BootloaderPlugin,
  type BootloaderServices,
  defineBootloaderPlugin,
  layerOfOptions,
  PLUGIN_CONTRACT_VERSIONS,
  type SettingsSchema,
} from '@imgbased/core';
import type { BootloaderContractFactory } from '../src/index.js';

/**
 * A minimal bootloader plugin over a simple text format, written for the testkit's own tests: the
 * correct one passes every check, and each flaw breaks exactly one guarantee, to show that the check
 * for that guarantee can fail.
 *
 *   # comment
 *   default ID
 *   entry ID
 *   title TITLE
 *   version VERSION
 *   kernel /path
 *   initrd /path
 *   options ARG ARG…
 *   end
 */
export type Flaw =
  /** Titles are not written: entries do not read back as written. */
  | 'loses-title'
  /** Only imgbased's entries are written: a hand-written entry disappears. */
  | 'drops-foreign'
  /** The configuration is removed, then written again: a crash in between leaves none. */
  | 'in-place'
  /** Lines it does not understand are skipped, so a corrupted file is read and then overwritten. */
  | 'lenient'
  /** The first entry is made the default, whatever core asked for. */
  | 'default-first'
  /** Claims a one-shot boot that does nothing. */
  | 'fake-one-shot'
  /** Writes a preview file when reading for a dry run. */
  | 'dry-run-preview'
  /** Reads no entry as imgbased's (no layer), so the last one can be removed. */
  | 'forgets-layers'
  /** Its plugin is named otherwise than its definition. */
  | 'misnamed';

export interface SimpleSettings {
  /** The configuration's directory under the boot partition. */
  readonly directory: string;
}

/** A Standard Schema written by hand, as a plugin built without zod would bring. */
const settingsSchema: SettingsSchema<SimpleSettings> = {
  '~standard': {
    version: 1,
    vendor: 'imgbased-testkit-tests',
    validate(value) {
      const directory = (value as { directory?: unknown }).directory ?? 'simple';
      if (typeof directory !== 'string' || !/^[a-z]+$/.test(directory)) {
        return { issues: [{ message: 'directory: lower-case letters only', path: ['directory'] }] };
      }
      return { value: { directory } };
    },
  },
};

interface Parsed {
  readonly blocks: readonly { readonly entry: BootEntry; readonly text: string }[];
}

const KEYS = new Set(['title', 'version', 'kernel', 'initrd', 'options']);

function parse(text: string, flaws: ReadonlySet<Flaw>): { defaultId: string | undefined; blocks: Parsed['blocks'] } {
  let defaultId: string | undefined;
  const blocks: { entry: BootEntry; text: string }[] = [];
  let open: { id: string; fields: Map<string, string>; lines: string[] } | undefined;
  for (const [index, line] of text.split('\n').entries()) {
    const [key = '', ...rest] = line.trim().split(/\s+/);
    const value = rest.join(' ');
    const refuse = (why: string) => {
      if (!flaws.has('lenient')) throw new Error(`line ${index + 1}: ${why}`);
    };
    if (key === '' || key.startsWith('#')) continue;
    if (open === undefined) {
      if (key === 'default') defaultId = value;
      else if (key === 'entry' && value !== '') open = { id: value, fields: new Map(), lines: [line] };
      else refuse(`not a directive: ${line}`);
      continue;
    }
    open.lines.push(line);
    if (KEYS.has(key)) open.fields.set(key, value);
    else if (key === 'end') {
      const { id, fields } = open;
      const kernel = fields.get('kernel');
      if (kernel === undefined) refuse(`entry ${id} boots nothing`);
      const options = (fields.get('options') ?? '').split(' ').filter(Boolean);
      const layer = flaws.has('forgets-layers') ? undefined : layerOfOptions(options);
      const entry = {
        id,
        title: fields.get('title') ?? id,
        version: fields.get('version') ?? '',
        kernel: kernel ?? '',
      };
      blocks.push({ entry: { ...entry, initrd: fields.get('initrd'), options, layer }, text: open.lines.join('\n') });
      open = undefined;
    } else refuse(`unknown key in entry ${open.id}: ${key}`);
  }
  if (open !== undefined) throw new Error(`entry ${open.id} has no end`);
  return { defaultId, blocks };
}

function render(entry: Omit<BootEntry, 'layer'>, flaws: ReadonlySet<Flaw>): string {
  return [
    `entry ${entry.id}`,
    ...(flaws.has('loses-title') ? [] : [`title ${entry.title}`]),
    `version ${entry.version}`,
    `kernel ${entry.kernel}`,
    ...(entry.initrd === undefined ? [] : [`initrd ${entry.initrd}`]),
    `options ${entry.options.join(' ')}`,
    'end',
  ].join('\n');
}

function createSimple(
  { files, bootDir, settings }: BootloaderServices<SimpleSettings>,
  flaws: ReadonlySet<Flaw>,
  oneShot: boolean,
): BootloaderPlugin<Parsed> {
  const directory = `${bootDir}/${settings.directory}`;
  const config = `${directory}/menu.conf`;
  const nextFile = `${directory}/next`;

  async function swapIn(defaultId: string | undefined, blocks: readonly string[]): Promise<{ filesReplaced: number }> {
    const text = `# simple menu\n${defaultId === undefined ? '' : `default ${defaultId}\n`}${blocks.join('\n')}\n`;
    await files.mkdir(directory);
    if (flaws.has('in-place')) {
      await files.remove(config);
      await files.writeNew(config, text);
    } else await files.replace(config, text);
    return { filesReplaced: 1 };
  }

  return {
    name: flaws.has('misnamed') ? 'simple-plugin' : 'simple',
    detect: () => files.exists(config),
    locate: async () => ({ root: bootDir, config }),
    async read(_location, context): Promise<BootConfiguration<Parsed>> {
      const { defaultId, blocks } = parse((await files.read(config)) ?? '', flaws);
      if (flaws.has('dry-run-preview') && context?.dryRun) await files.replace(`${directory}/preview`, 'dry run\n');
      const next = (await files.read(nextFile))?.trim();
      return { entries: blocks.map((b) => b.entry), defaultId, nextId: next || undefined, parsed: { blocks } };
    },
    async write(_location, change, before) {
      const foreign = flaws.has('drops-foreign') ? [] : before.parsed.blocks.filter((b) => b.entry.layer === undefined);
      const defaultId = flaws.has('default-first') ? change.entries[0]?.id : change.defaultId;
      return swapIn(defaultId, [...change.entries.map((e) => render(e, flaws)), ...foreign.map((b) => b.text)]);
    },
    async writeDefault(_location, entryId, before) {
      return swapIn(
        entryId,
        before.parsed.blocks.map((b) => b.text),
      );
    },
    ...(oneShot || flaws.has('fake-one-shot')
      ? {
          oneShot: {
            available: async () => true,
            async set(_location, entryId) {
              if (!flaws.has('fake-one-shot')) await files.replace(nextFile, `${entryId}\n`);
            },
          },
        }
      : {}),
  };
}

/** The plugin's definition, as its package would export it. */
export function simplePlugin(flaws: readonly Flaw[] = [], oneShot = false) {
  return defineBootloaderPlugin<SimpleSettings>({
    name: 'simple',
    contractVersion: PLUGIN_CONTRACT_VERSIONS.bootloader,
    probeOrder: 99,
    settings: settingsSchema,
    create: (services) => createSimple(services, new Set(flaws), oneShot),
  });
}

/** The factory a plugin author would write for the suite. */
export function simpleFactory(
  options: { flaws?: readonly Flaw[]; oneShot?: boolean | 'skip' } = {},
): BootloaderContractFactory<SimpleSettings> {
  return () => ({
    definition: simplePlugin(options.flaws, options.oneShot !== undefined && options.oneShot !== false),
    settings: { directory: 'menu' },
    oneShot: options.oneShot === 'skip' ? 'skip' : 'check',
    async prepare(root) {
      await mkdir(join(root, 'menu'));
      await writeFile(join(root, 'menu/menu.conf'), '# simple menu, as installed\n');
    },
    async corrupt(root) {
      await appendFile(join(root, 'menu/menu.conf'), 'this line is not a directive\n');
    },
    foreignEntry: {
      id: 'rescue',
      async add(root) {
        await mkdir(join(root, 'rescue'));
        await writeFile(join(root, 'rescue/vmlinuz'), 'rescue kernel\n');
        const block = 'entry rescue\n  title Rescue system\n  kernel /rescue/vmlinuz\n  options ro single\nend\n';
        await appendFile(join(root, 'menu/menu.conf'), block);
      },
    },
  });
}

import type {
  BootConfiguration,
  BootConfigurationChange,
  BootLocation,
  BootloaderPlugin,
  BootloaderServices,
} from '@imgbased/core';
import {
  type ExtlinuxConf,
  type ExtlinuxConfToRender,
  parseExtlinuxConf,
  renderBlockLines,
  renderExtlinuxConf,
} from './extlinux-conf.js';
import { extlinuxTrial } from './extlinux-trial.js';

type Extlinux = BootConfiguration<ExtlinuxConf>;

/**
 * extlinux (syslinux) on the boot partition mounted at `[bootloader] boot_dir`: one `LABEL` per layer
 * and `DEFAULT` in `<boot_dir>/extlinux/extlinux.conf`, kernels in `<boot_dir>/<layer>/`. syslinux has
 * no one-shot boot and no boot counting, so neither capability is declared; trial boots use ldlinux's
 * boot-once (extlinux-trial.ts).
 */
export function createExtlinux({ files, bootDir, runner }: BootloaderServices): BootloaderPlugin<ExtlinuxConf> {
  const root = bootDir.replace(/\/+$/, '') || '/';
  const directory = `${root === '/' ? '' : root}/extlinux`;
  const configPath = `${directory}/extlinux.conf`;

  async function swapIn(conf: ExtlinuxConfToRender, previous: string | undefined): Promise<number> {
    const text = renderExtlinuxConf(conf);
    if (text === previous) return 0;
    await files.mkdir(directory);
    await files.replace(configPath, text);
    return 1;
  }

  return {
    name: 'extlinux',
    async detect() {
      return (await files.exists(configPath)) || (await files.exists(`${directory}/ldlinux.sys`));
    },
    async locate(): Promise<BootLocation> {
      return { root, config: configPath };
    },
    async read(): Promise<Extlinux> {
      const text = await files.read(configPath);
      const conf: ExtlinuxConf =
        text === undefined ? { header: [], defaultLabel: undefined, blocks: [] } : parseExtlinuxConf(text);
      return {
        entries: conf.blocks.map((b) => b.entry),
        defaultId: conf.defaultLabel,
        nextId: undefined,
        parsed: conf,
      };
    },
    async write(_location, change: BootConfigurationChange, before: Extlinux) {
      const ours = change.entries.map((entry) => ({ label: entry.id, lines: renderBlockLines(entry) }));
      const foreign = before.parsed.blocks.filter((b) => b.entry.layer === undefined);
      const conf = { header: before.parsed.header, defaultLabel: change.defaultId, blocks: [...ours, ...foreign] };
      return { filesReplaced: await swapIn(conf, await files.read(configPath)) };
    },
    async writeDefault(_location, entryId: string, before: Extlinux) {
      const conf = { ...before.parsed, defaultLabel: entryId };
      return { filesReplaced: await swapIn(conf, await files.read(configPath)) };
    },
    trial: extlinuxTrial(runner, files, directory),
  };
}

// When plugins are loaded: the CLI (`on-first-use`) loads a kind's plugins when a verb first selects
// one, so that a listing runs no plugin code; the daemon (`eager`, the default) when it starts.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BootloaderSelection,
  type PersistenceSelection,
  PersistenceSelection as PersistenceToken,
} from '@imgbased/core';
import { loadConfig } from '@imgbased/system';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildContainer, loadShippedPlugins, SHIPPED_PLUGINS, type ShippedPlugin } from '../src/index.js';

let dir: string;
let pluginDir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'imgbased-plugin-loading-'));
  pluginDir = path.join(dir, 'plugins');
  await mkdir(pluginDir, { mode: 0o755 });
  await chmod(pluginDir, 0o755);
  await mkdir(path.join(dir, 'etc'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function configure(text: string) {
  await writeFile(path.join(dir, 'etc/imgbased.conf'), `[core]\nplugin_dir = ${pluginDir}\n${text}\n`);
  return loadConfig({ root: dir });
}

/** The shipped plugins, each counting its loads. */
function counted(): { plugins: ShippedPlugin[]; loads: string[] } {
  const loads: string[] = [];
  const plugins = SHIPPED_PLUGINS.map((p) => ({
    ...p,
    load: () => {
      loads.push(p.name);
      return p.load();
    },
  }));
  return { plugins, loads };
}

describe('plugin loading', () => {
  it('on first use: none at build, then only the kind a verb selects, once', async () => {
    const config = await configure('[bootloader]\nplugins = none\n[persistence]\nplugins = tar-diff');
    const { plugins, loads } = counted();
    const container = await buildContainer({ config, plugins, pluginLoading: 'on-first-use' });
    expect(loads).toEqual([]);
    const persistence = container.resolve<PersistenceSelection>(PersistenceToken);
    expect((await persistence.select()).map((p) => p.name)).toEqual(['tar-diff']);
    await persistence.select();
    expect(loads.sort()).toEqual(['rsync', 'tar-diff']);
    expect(await container.resolve<BootloaderSelection>(BootloaderSelection).select()).toBeUndefined();
    expect(loads).toHaveLength(5);
  });

  it('eager (the default): every shipped plugin at build', async () => {
    const config = await configure('[persistence]\nplugins = tar-diff');
    const { plugins, loads } = counted();
    await buildContainer({ config, plugins });
    expect(loads.sort()).toEqual(['extlinux', 'grub-bls', 'rsync', 'systemd-boot', 'tar-diff']);
  });

  it('on first use: a broken plugin of the directory fails the verb that selects it, not the build', async () => {
    await writeFile(path.join(pluginDir, 'broken.mjs'), "throw new Error('no bootloader here');\n");
    await chmod(path.join(pluginDir, 'broken.mjs'), 0o644);
    const config = await configure('[bootloader]\nplugins = broken');
    const container = await buildContainer({ config, plugins: [], pluginLoading: 'on-first-use' });
    await expect(container.resolve<BootloaderSelection>(BootloaderSelection).select()).rejects.toMatchObject({
      code: 'E_PLUGIN_INVALID',
    });
    await expect(buildContainer({ config, plugins: [] })).rejects.toMatchObject({ code: 'E_PLUGIN_INVALID' });
  });

  it('on first use still refuses a section of no plugin at build, loading nothing', async () => {
    const config = await configure('[bootloader.grub-bs]\ntimeout = 3');
    const { plugins, loads } = counted();
    await expect(buildContainer({ config, plugins, pluginLoading: 'on-first-use' })).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
    });
    expect(loads).toEqual([]);
  });

  it('the shipped list names each plugin as its definition does', async () => {
    const definitions = await loadShippedPlugins();
    expect(definitions.map((d) => [d.kind, d.name])).toEqual(SHIPPED_PLUGINS.map((p) => [p.kind, p.name]));
  });
});

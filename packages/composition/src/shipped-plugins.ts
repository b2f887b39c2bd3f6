import extlinux from '@imgbased/bootloader-extlinux';
import grubBls from '@imgbased/bootloader-grub-bls';
import systemdBoot from '@imgbased/bootloader-systemd-boot';
import type { PluginDefinition, PluginKind } from '@imgbased/core';
import rsync from '@imgbased/persistence-rsync';
import tarDiff from '@imgbased/persistence-tar-diff';
import { checkPluginDefinition } from './plugin-module.js';

/**
 * A plugin known by kind and name before it is made: a run makes (and resolves the settings of) only
 * the kinds of plugin it uses; a listing makes none. `load` gives the package's default export,
 * checked like any other definition.
 */
export interface ShippedPlugin {
  readonly kind: PluginKind;
  readonly name: string;
  readonly load: () => Promise<unknown>;
}

// Imported statically: an import() here would split the daemon's ES module bundle into chunks, and
// esbuild's chunks can run tsyringe before the entry has installed reflect-metadata.
const shipped = (kind: PluginKind, name: string, definition: unknown): ShippedPlugin => ({
  kind,
  name,
  load: async () => definition,
});

/**
 * The plugins this build of imgbased ships: the packager's choice, one line per plugin (and its
 * dependency in package.json). The configuration picks among them at run time (`[bootloader] plugins`,
 * `[persistence] plugins`); plugins that did not ship are loaded from `[core] plugin_dir` by name.
 */
export const SHIPPED_PLUGINS: readonly ShippedPlugin[] = [
  shipped('bootloader', 'extlinux', extlinux),
  shipped('bootloader', 'grub-bls', grubBls),
  shipped('bootloader', 'systemd-boot', systemdBoot),
  shipped('persistence', 'tar-diff', tarDiff),
  shipped('persistence', 'rsync', rsync),
];

/** Every shipped plugin's definition, checked (for the generated documentation and tests). */
export async function loadShippedPlugins(): Promise<PluginDefinition[]> {
  return Promise.all(
    SHIPPED_PLUGINS.map(async (p) => checkPluginDefinition(await p.load(), p, `shipped plugin ${p.name}`)),
  );
}

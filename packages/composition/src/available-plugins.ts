import { ConfigInvalidError, type ImgbasedConfig, type PluginDefinition, type PluginKind } from '@imgbased/core';
import { loadPluginFromDirectory, type ModuleImporter } from './plugin-directory.js';
import { checkPluginDefinition } from './plugin-module.js';

/** Names in `[KIND] plugins` that choose no plugin. */
const KEYWORDS = new Set(['auto', 'none']);

/**
 * Every plugin this run can use: the shipped ones (checked like any other), and each plugin the
 * configuration names that did not ship, loaded from `[core] plugin_dir`. A section of a plugin that is
 * neither (`[bootloader.NAME]`) is refused: a typo there would otherwise be a setting silently ignored.
 */
export async function availablePlugins(
  shipped: readonly PluginDefinition[],
  config: ImgbasedConfig,
  importer?: ModuleImporter,
): Promise<PluginDefinition[]> {
  const out = shipped.map((definition) => checkPluginDefinition(definition, {}, `shipped plugin ${definition.name}`));
  const has = (kind: PluginKind, name: string) => out.some((d) => d.kind === kind && d.name === name);
  const named: [PluginKind, readonly string[]][] = [
    ['bootloader', config.bootloader.plugins],
    ['persistence', config.persistence.plugins],
  ];
  for (const [kind, names] of named) {
    for (const name of names) {
      if (KEYWORDS.has(name) || has(kind, name)) continue;
      out.push(await loadPluginFromDirectory(config.core.plugin_dir, name, kind, importer));
    }
  }
  for (const section of config.pluginSections) {
    if (!has(section.kind, section.name)) {
      throw new ConfigInvalidError(
        section.file,
        `${section.kind}.${section.name}`,
        `no ${section.kind} plugin '${section.name}' is shipped or named in [${section.kind}] plugins`,
      );
    }
  }
  return out;
}

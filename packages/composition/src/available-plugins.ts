import { ConfigInvalidError, type ImgbasedConfig, type PluginDefinition, type PluginKind } from '@imgbased/core';
import { loadPluginFromDirectory, type ModuleImporter } from './plugin-directory.js';
import { checkPluginDefinition } from './plugin-module.js';
import type { ShippedPlugin } from './shipped-plugins.js';

/** A plugin this build offers: its definition, or (the shipped ones) its kind and name and how to load it. */
export type OfferedPlugin = PluginDefinition | ShippedPlugin;

/** Names in `[KIND] plugins` that choose no plugin. */
const KEYWORDS = new Set(['auto', 'none']);

const isLazy = (p: OfferedPlugin): p is ShippedPlugin => !('create' in p) && typeof p.load === 'function';

/**
 * The plugins a run can use, loaded one kind at a time when that kind is first needed: the shipped ones
 * (checked like any other), and each plugin the configuration names that did not ship, loaded from
 * `[core] plugin_dir`. What a listing never needs it never loads.
 */
export class AvailablePlugins {
  private readonly loaded = new Map<PluginKind, Promise<PluginDefinition[]>>();

  constructor(
    private readonly offered: readonly OfferedPlugin[],
    private readonly config: ImgbasedConfig,
    private readonly importer?: ModuleImporter | undefined,
  ) {}

  /**
   * A section of a plugin that is neither shipped nor named (`[bootloader.NAME]`) is refused: a typo
   * there would otherwise be a setting silently ignored. Names only: no plugin is loaded for this.
   */
  checkSections(): void {
    for (const section of this.config.pluginSections) {
      const named = this.named(section.kind).includes(section.name);
      if (!named && !this.offered.some((p) => p.kind === section.kind && p.name === section.name)) {
        throw new ConfigInvalidError(
          section.file,
          `${section.kind}.${section.name}`,
          `no ${section.kind} plugin '${section.name}' is shipped or named in [${section.kind}] plugins`,
        );
      }
    }
  }

  /** Every plugin of `kind`: the shipped ones in their order, then those the configuration names. */
  of(kind: PluginKind): Promise<PluginDefinition[]> {
    let definitions = this.loaded.get(kind);
    if (definitions === undefined) {
      definitions = this.load(kind);
      this.loaded.set(kind, definitions);
    }
    return definitions;
  }

  private named(kind: PluginKind): readonly string[] {
    return kind === 'bootloader' ? this.config.bootloader.plugins : this.config.persistence.plugins;
  }

  private async load(kind: PluginKind): Promise<PluginDefinition[]> {
    const out: PluginDefinition[] = [];
    for (const p of this.offered) {
      if (p.kind !== kind) continue;
      const value = isLazy(p) ? await p.load() : p;
      out.push(checkPluginDefinition(value, isLazy(p) ? p : {}, `shipped plugin ${p.name}`));
    }
    for (const name of this.named(kind)) {
      if (KEYWORDS.has(name) || out.some((d) => d.name === name)) continue;
      out.push(await loadPluginFromDirectory(this.config.core.plugin_dir, name, kind, this.importer));
    }
    return out;
  }
}

/** Every plugin this run can use, of both kinds, loaded now (see AvailablePlugins). */
export async function availablePlugins(
  offered: readonly OfferedPlugin[],
  config: ImgbasedConfig,
  importer?: ModuleImporter,
): Promise<PluginDefinition[]> {
  const available = new AvailablePlugins(offered, config, importer);
  const bootloaders = await available.of('bootloader');
  const persistence = await available.of('persistence');
  available.checkSections();
  return [...bootloaders, ...persistence];
}

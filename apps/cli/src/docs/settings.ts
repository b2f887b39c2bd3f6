import { loadShippedPlugins } from '@imgbased/composition';
import { defaultConfig, type PluginDefinition } from '@imgbased/core';
import { SECTION_TEXT, SETTING_TEXT } from './settings-text.js';

/** One section of imgbased.conf: core's own or a plugin's (`[bootloader.grub-bls]`). */
export interface DocSection {
  readonly name: string;
  readonly description: string;
  /** The plugin the section belongs to; undefined for core's sections. */
  readonly plugin?: string | undefined;
  readonly settings: readonly DocSetting[];
}

export interface DocSetting {
  readonly key: string;
  /** The default as INI writes it (lists space-separated). */
  readonly defaultText: string;
  readonly description: string;
}

/** Where imgbased reads its configuration, in order (as @imgbased/system's loadConfig does). */
export const CONFIG_FILES = [
  '/usr/lib/imgbased/imgbased.conf',
  '/usr/lib/imgbased/imgbased.conf.d/*.conf',
  '/etc/imgbased.conf',
  '/etc/imgbased.conf.d/*.conf',
] as const;

/** A value as an INI file writes it. */
export function iniText(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(' ');
  return String(value);
}

function described(name: string, key: string): string {
  const text = SETTING_TEXT[`${name}.${key}`];
  if (text === undefined) throw new Error(`no description of [${name}] ${key}: add one to settings-text.ts`);
  return text;
}

function section(name: string, values: Record<string, unknown>, plugin?: string): DocSection {
  const description = SECTION_TEXT[name];
  if (description === undefined) throw new Error(`no description of [${name}]: add one to settings-text.ts`);
  return {
    name,
    description,
    plugin,
    settings: Object.entries(values).map(([key, value]) => ({
      key,
      defaultText: iniText(value),
      description: described(name, key),
    })),
  };
}

/**
 * Every section and setting with its default: core's from its schema's defaults, each shipped plugin's
 * from its own settings schema (a Standard Schema, given no values: whatever validator the plugin uses).
 */
export async function describeSettings(plugins?: readonly PluginDefinition[]): Promise<DocSection[]> {
  const { pluginSections: _none, ...core } = defaultConfig();
  const sections = Object.entries(core).map(([name, values]) => section(name, values as Record<string, unknown>));
  for (const plugin of plugins ?? (await loadShippedPlugins())) {
    const name = `${plugin.kind}.${plugin.name}`;
    // A plugin without settings refuses a section of its own: none is written.
    if (plugin.settings === undefined) continue;
    const result = await plugin.settings['~standard'].validate({});
    if (result.issues !== undefined)
      throw new Error(`[${name}] has settings without a default: ${result.issues[0]?.message ?? 'invalid'}`);
    sections.push(section(name, result.value as Record<string, unknown>, plugin.name));
  }
  return sections;
}

import type { PluginKind, SettingsResult, SettingsSchema } from '../contracts/plugin.js';
import { ConfigInvalidError } from '../errors/index.js';
import type { PluginSection } from './config.js';

/**
 * A plugin's settings from its `[KIND.NAME]` sections: each file's section is validated alone by the
 * plugin's schema (so an error names the file and the key), then the sections are merged in file
 * order, later keys winning, and validated once more to give the settings with the schema's defaults.
 */
export async function resolvePluginSettings<Settings>(
  plugin: {
    readonly kind: PluginKind;
    readonly name: string;
    readonly settings?: SettingsSchema<Settings> | undefined;
  },
  sections: readonly PluginSection[],
): Promise<Settings | undefined> {
  const own = sections.filter((s) => s.kind === plugin.kind && s.name === plugin.name);
  const schema = plugin.settings;
  if (schema === undefined) {
    const first = own[0];
    if (first !== undefined) {
      throw new ConfigInvalidError(
        first.file,
        `${plugin.kind}.${plugin.name}`,
        `plugin '${plugin.name}' takes no settings`,
      );
    }
    return undefined;
  }
  let merged: Record<string, unknown> = {};
  for (const section of own) {
    await validated(schema, section.values, section.file, `${plugin.kind}.${plugin.name}`);
    merged = { ...merged, ...section.values };
  }
  const where = own.at(-1)?.file ?? '(defaults)';
  return validated(schema, merged, where, `${plugin.kind}.${plugin.name}`);
}

async function validated<Settings>(
  schema: SettingsSchema<Settings>,
  values: unknown,
  file: string,
  section: string,
): Promise<Settings> {
  let result: SettingsResult<Settings>;
  try {
    result = await schema['~standard'].validate(values);
  } catch (error) {
    throw new ConfigInvalidError(file, section, `the plugin's settings check failed: ${String(error)}`);
  }
  if (result.issues === undefined) return result.value;
  const issue = result.issues[0];
  const path = (issue?.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p));
  // zod reports unknown keys in `keys` (its message may not name them); other validators in the message.
  const keys = (issue as { keys?: unknown } | undefined)?.keys;
  const unknown = Array.isArray(keys)
    ? String(keys[0])
    : /^Unrecognized keys?: "([^"]+)"/.exec(issue?.message ?? '')?.[1];
  if (unknown !== undefined)
    throw new ConfigInvalidError(file, [section, ...path, unknown].join('.'), 'unknown setting');
  throw new ConfigInvalidError(file, [section, ...path].join('.'), issue?.message ?? 'invalid');
}

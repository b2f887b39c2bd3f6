import type { SettingsSchema } from '@imgbased/core';

/**
 * A plugin's settings as the host would hand them over: `raw` (the INI section's values) validated by
 * the definition's Standard Schema; without raw values, the schema's defaults (validating `{}`).
 */
export async function validatedSettings<Settings>(
  plugin: string,
  schema: SettingsSchema<Settings> | undefined,
  raw: Readonly<Record<string, unknown>> | undefined,
): Promise<Settings> {
  if (schema === undefined) {
    if (raw !== undefined && Object.keys(raw).length > 0) {
      throw new Error(`${plugin} declares no settings schema, yet the factory gave settings`);
    }
    return undefined as Settings;
  }
  const result = await schema['~standard'].validate(raw ?? {});
  if (result.issues !== undefined) {
    const messages = result.issues.map((issue) => issue.message).join('; ');
    throw new Error(`${plugin}: the factory's settings are refused by the plugin's own schema: ${messages}`);
  }
  return result.value;
}

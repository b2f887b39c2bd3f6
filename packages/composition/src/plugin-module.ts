import {
  PLUGIN_CONTRACT_VERSIONS,
  type PluginDefinition,
  PluginIncompatibleError,
  PluginInvalidError,
  type PluginKind,
} from '@imgbased/core';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Checks that `value` (a module's default export, from a package or the plugin directory) is a plugin
 * definition of the expected kind and name, written for this imgbased's contract version. Throws
 * PluginInvalidError / PluginIncompatibleError; nothing of the plugin runs before it passes.
 */
export function checkPluginDefinition(
  value: unknown,
  expected: { readonly kind?: PluginKind; readonly name?: string },
  source: string,
): PluginDefinition {
  const label = expected.name ?? source;
  if (typeof value !== 'object' || value === null) {
    throw new PluginInvalidError(label, `${source} has no plugin definition as its default export`);
  }
  const d = value as Record<string, unknown>;
  if (d.kind !== 'bootloader' && d.kind !== 'persistence') {
    throw new PluginInvalidError(
      label,
      `${source}: kind must be 'bootloader' or 'persistence', not ${describe(d.kind)}`,
    );
  }
  if (typeof d.name !== 'string' || !NAME.test(d.name)) {
    throw new PluginInvalidError(
      label,
      `${source}: name must be lower case letters, digits and '-', not ${describe(d.name)}`,
    );
  }
  if (expected.name !== undefined && d.name !== expected.name) {
    throw new PluginInvalidError(label, `${source} defines the plugin '${d.name}'`);
  }
  if (expected.kind !== undefined && d.kind !== expected.kind) {
    throw new PluginInvalidError(label, `${source} is a ${d.kind} plugin, configured as a ${expected.kind} plugin`);
  }
  const wanted = PLUGIN_CONTRACT_VERSIONS[d.kind];
  if (d.contractVersion !== wanted) throw new PluginIncompatibleError(d.name, d.kind, wanted, d.contractVersion);
  if (typeof d.create !== 'function') throw new PluginInvalidError(d.name, `${source}: create is not a function`);
  if (typeof d.probeOrder !== 'number' || !Number.isFinite(d.probeOrder)) {
    throw new PluginInvalidError(d.name, `${source}: probeOrder must be a number`);
  }
  const settings = d.settings as { '~standard'?: { validate?: unknown } } | undefined;
  if (settings !== undefined && typeof settings?.['~standard']?.validate !== 'function') {
    throw new PluginInvalidError(d.name, `${source}: settings must be a Standard Schema (e.g. a zod schema)`);
  }
  return value as PluginDefinition;
}

function describe(value: unknown): string {
  return value === undefined ? 'missing' : (JSON.stringify(value) ?? String(value));
}

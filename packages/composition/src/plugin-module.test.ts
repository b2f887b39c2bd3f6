import { PLUGIN_CONTRACT_VERSIONS } from '@imgbased/core';
import { describe, expect, it, vi } from 'vitest';
import { checkPluginDefinition } from './plugin-module.js';

const SOURCE = '/plugins/demo.mjs';

/** A valid bootloader definition, with `changes` applied (undefined removes a member). */
function definition(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    kind: 'bootloader',
    name: 'demo',
    contractVersion: PLUGIN_CONTRACT_VERSIONS.bootloader,
    probeOrder: 50,
    create: () => ({}),
  };
  const out = { ...base, ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete out[key];
  return out;
}

function refusal(value: unknown, expected: { kind?: 'bootloader' | 'persistence'; name?: string } = {}) {
  try {
    checkPluginDefinition(value, expected, SOURCE);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('accepted');
}

describe('checkPluginDefinition', () => {
  it('accepts a definition of each kind, returning it as it is', () => {
    const bootloader = definition();
    expect(checkPluginDefinition(bootloader, { kind: 'bootloader', name: 'demo' }, SOURCE)).toBe(bootloader);
    const persistence = definition({ kind: 'persistence', contractVersion: PLUGIN_CONTRACT_VERSIONS.persistence });
    expect(checkPluginDefinition(persistence, {}, SOURCE)).toBe(persistence);
  });

  it('accepts a settings schema that is a Standard Schema', () => {
    const settings = { '~standard': { version: 1, vendor: 'hand', validate: () => ({ value: {} }) } };
    expect(checkPluginDefinition(definition({ settings }), {}, SOURCE)).toMatchObject({ settings });
  });

  it.each([
    ['nothing', undefined, 'has no plugin definition as its default export'],
    ['a number', 42, 'has no plugin definition as its default export'],
    ['a module namespace without default', null, 'has no plugin definition as its default export'],
    ['a wrong kind', definition({ kind: 'kernel' }), `kind must be 'bootloader' or 'persistence', not "kernel"`],
    ['no kind', definition({ kind: undefined }), 'kind must be'],
    [
      'a name with capitals',
      definition({ name: 'Demo' }),
      `name must be lower case letters, digits and '-', not "Demo"`,
    ],
    ['a name with a slash', definition({ name: '../demo' }), 'name must be lower case'],
    ['create missing', definition({ create: undefined }), 'create is not a function'],
    ['probeOrder a string', definition({ probeOrder: '5' }), 'probeOrder must be a number'],
    ['probeOrder NaN', definition({ probeOrder: Number.NaN }), 'probeOrder must be a number'],
    ['settings that validate nothing', definition({ settings: { parse() {} } }), 'settings must be a Standard Schema'],
  ])('refuses %s as E_PLUGIN_INVALID, naming the source', (_what, value, message) => {
    const error = refusal(value);
    expect(error.code).toBe('E_PLUGIN_INVALID');
    expect(error.message).toContain(message);
    expect(error.message).toContain(SOURCE);
  });

  it('refuses a definition of another name or kind than the configuration asked for', () => {
    expect(refusal(definition(), { name: 'other' })).toMatchObject({
      code: 'E_PLUGIN_INVALID',
      message: `Plugin 'other' cannot be used: ${SOURCE} defines the plugin 'demo'`,
    });
    expect(refusal(definition(), { kind: 'persistence' })).toMatchObject({
      code: 'E_PLUGIN_INVALID',
      message: expect.stringContaining('is a bootloader plugin, configured as a persistence plugin'),
    });
  });

  it.each([999, 0, '1', undefined])('refuses contract version %s as E_PLUGIN_INCOMPATIBLE', (version) => {
    const error = refusal(definition({ contractVersion: version }));
    expect(error.code).toBe('E_PLUGIN_INCOMPATIBLE');
    expect(error.message).toContain(`this imgbased needs ${PLUGIN_CONTRACT_VERSIONS.bootloader}`);
  });

  it('runs nothing of the plugin while checking it', () => {
    const create = vi.fn();
    checkPluginDefinition(definition({ create }), {}, SOURCE);
    refusal(definition({ create, contractVersion: 999 }));
    expect(create).not.toHaveBeenCalled();
  });
});

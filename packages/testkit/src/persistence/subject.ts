import {
  type Persistence,
  type PersistencePluginDefinition,
  type PersistencePluginInstance,
  PLUGIN_CONTRACT_VERSIONS,
} from '@imgbased/core';
import { ExecaCommandRunner } from '@imgbased/system';
import { expect } from 'vitest';
import { validatedSettings } from '../settings.js';

/**
 * How a persistence plugin carries the admin's state; the suite checks the outcomes that follow.
 * - `three-way` (the default): each path compared with the old base. What the admin added, changed or
 *   deleted is carried (a deletion too); what only the new base changed stays the new base's (and is
 *   reported in `keptFromNewBase`); what both changed is a conflict, resolved by the policy.
 * - `old-layer-wins`: the old layer's files under the paths are copied over the new layer; nothing is
 *   deleted and there are no conflicts (outside the account files), as a plain `rsync` does. The
 *   deletion, new-base and conflict outcomes are then not checked.
 */
export type PersistenceCarry = 'three-way' | 'old-layer-wins';

/** What the factory returns: the plugin under test. */
export interface PersistenceContractSubject<Settings = unknown> {
  /** The plugin's definition, as its package exports it (`export default definePersistencePlugin(…)`). */
  readonly definition: PersistencePluginDefinition<Settings>;
  /** The raw `[persistence.NAME]` section, validated with the definition's schema. */
  readonly settings?: Readonly<Record<string, unknown>> | undefined;
  /** Default `three-way`. */
  readonly carries?: PersistenceCarry | undefined;
}

/** Called once per check: the suite passes its own trees and policies to `carryOver`. */
export type PersistenceContractFactory<Settings = unknown> = () =>
  | PersistenceContractSubject<Settings>
  | Promise<PersistenceContractSubject<Settings>>;

export interface PersistenceUnderTest {
  readonly subject: PersistenceContractSubject<unknown>;
  readonly instance: PersistencePluginInstance;
  readonly persistence: Persistence;
  readonly carries: PersistenceCarry;
}

/** The same runner the host gives plugins (execa; a dry run is the operation context's). */
export const runner = new ExecaCommandRunner();

/** Makes the plugin as the host does: `definition.create({ runner, settings })`, settings validated. */
export async function persistenceUnderTest<Settings>(
  factory: PersistenceContractFactory<Settings>,
): Promise<PersistenceUnderTest> {
  const subject = await factory();
  const { definition } = subject;
  if (definition.kind !== 'persistence') throw new Error(`${definition.name} is a ${definition.kind} plugin`);
  const settings = await validatedSettings(definition.name, definition.settings, subject.settings);
  const instance = definition.create({ runner, settings });
  return {
    subject: subject as PersistenceContractSubject<unknown>,
    instance,
    persistence: instance.persistence,
    carries: subject.carries ?? 'three-way',
  };
}

/** The definition names this contract's version and the plugin it makes. */
export function expectValidDefinition(t: PersistenceUnderTest): void {
  const { definition } = t.subject;
  expect(definition.kind).toBe('persistence');
  expect(definition.contractVersion, 'contractVersion').toBe(PLUGIN_CONTRACT_VERSIONS.persistence);
  expect(definition.name, 'the name the configuration uses').toMatch(/^[a-z0-9][a-z0-9-]*$/);
  expect(Number.isFinite(definition.probeOrder), 'probeOrder is a number').toBe(true);
  expect(t.persistence.name, "the plugin's name").toBe(definition.name);
  expect(Array.isArray(t.instance.policy.paths), 'the policy its settings give has paths').toBe(true);
}

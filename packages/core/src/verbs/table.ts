import type * as z from 'zod/mini';
import type { OperationContext } from '../events.js';
import { AdoptResultSchema } from '../layout/adopt-schema.js';
import {
  BootChangeSchema,
  BootDefaultChangeSchema,
  BootDefaultSchema,
  BootListSchema,
  ChangeResultSchema,
  FreeSpaceSchema,
  KernelArgsChangeSchema,
  KernelArgsSchema,
  LayoutViewSchema,
  NameResultSchema,
} from '../layout/schema.js';
import { PinChangeSchema, RollbackResultSchema, UpdateResultSchema } from '../layout/update-schema.js';
import { parseSize } from '../naming/nvr.js';
import { ADMIN_VERBS } from './admin-table.js';
import {
  AddBaseArgs,
  AddLayerArgs,
  EditKernelArgsArgs,
  InitLayoutArgs,
  LayerArg,
  NameArg,
  NoArgs,
  PinBaseArgs,
  RemoveBaseArgs,
  RollbackArgs,
  SetDefaultArgs,
  UpdateArgs,
} from './args.js';
import type { VerbEngine } from './engine-port.js';
import { TRIAL_VERBS } from './trial-table.js';
import { defineVerb, type VerbDefinition } from './verb.js';

const get = (path: string, param?: 'name') => ({ method: 'GET' as const, path, ...(param ? { param } : {}) });

/** The layout, base, layer, boot, update and rollback verbs. */
const IMAGE_VERBS = {
  layout: defineVerb({
    kind: 'read',
    summary: 'The whole layout: pool, bases and their layers (imgbase layout)',
    args: NoArgs,
    result: LayoutViewSchema,
    http: get('/v1/layout'),
    run: (engine, _args, context) => engine.layout(context),
  }),
  'layout --bases': defineVerb({
    kind: 'read',
    summary: 'Names of the bases (imgbase layout --bases)',
    args: NoArgs,
    result: NameResultSchema.bases,
    http: get('/v1/layout/bases'),
    run: async (engine, _args, context) => ({ bases: (await engine.layout(context)).bases.map((b) => b.name) }),
  }),
  'layout --layers': defineVerb({
    kind: 'read',
    summary: 'Names of the layers (imgbase layout --layers)',
    args: NoArgs,
    result: NameResultSchema.layers,
    http: get('/v1/layout/layers'),
    run: async (engine, _args, context) => ({
      layers: (await engine.layout(context)).bases.flatMap((b) => b.layers.map((l) => l.name)),
    }),
  }),
  'layout --free-space': defineVerb({
    kind: 'read',
    summary: 'Free space in the thin pool, in bytes (imgbase layout --free-space)',
    args: NoArgs,
    result: FreeSpaceSchema,
    http: get('/v1/layout/free-space'),
    run: (engine, _args, context) => engine.freeSpace(context),
  }),
  'layout --init': defineVerb({
    kind: 'change',
    summary: 'Create the layout: tag the volume group and thin pool, make the first base and layer',
    args: InitLayoutArgs,
    result: ChangeResultSchema,
    run: (engine, args, context) => engine.initLayout({ nvr: args.nvr, from: args.from ?? '/' }, context),
  }),
  'layout --adopt': defineVerb({
    kind: 'change',
    summary:
      'Bring a layout the original imgbased made to imgbased’s conventions (bases tagged and protected as bases)',
    args: NoArgs,
    result: AdoptResultSchema,
    run: (engine, _args, context) => engine.adoptLayout(context),
  }),
  'base --add': defineVerb({
    kind: 'change',
    summary: 'Add a read-only base, empty or filled from an ext4 image',
    args: AddBaseArgs,
    result: ChangeResultSchema,
    // async: a bad size is a rejected promise, like every other refusal.
    run: async (engine, args, context) =>
      engine.addBase({ nvr: args.nvr, sizeBytes: parseSize(args.size), image: args.image }, context),
  }),
  'base --remove': defineVerb({
    kind: 'change',
    summary: 'Remove a base and all its layers',
    args: RemoveBaseArgs,
    result: ChangeResultSchema,
    run: (engine, args, context) => engine.removeBase(args.name, context),
  }),
  'base --pin': defineVerb({
    kind: 'change',
    summary: 'Keep a base from garbage collection',
    args: PinBaseArgs,
    result: PinChangeSchema,
    run: (engine, args, context) => engine.pinBase(args.name, true, context),
  }),
  'base --unpin': defineVerb({
    kind: 'change',
    summary: 'Let garbage collection remove a pinned base again',
    args: PinBaseArgs,
    result: PinChangeSchema,
    run: (engine, args, context) => engine.pinBase(args.name, false, context),
  }),
  'base --latest': defineVerb({
    kind: 'read',
    summary: 'The newest base (imgbase base --latest)',
    args: NoArgs,
    result: NameResultSchema.base,
    http: get('/v1/bases/latest'),
    run: async (engine, _args, context) => ({ base: (await engine.latestBase(context)).name }),
  }),
  'base --of-layer': defineVerb({
    kind: 'read',
    summary: 'The base of a layer (imgbase base --of-layer NAME)',
    args: NameArg,
    result: NameResultSchema.base,
    http: get('/v1/layers/:name/base', 'name'),
    run: async (engine, args, context) => ({ base: (await engine.baseOfLayer(args.name, context)).name }),
  }),
  'layer --add': defineVerb({
    kind: 'change',
    summary: 'Add a writable layer on a base or layer (default: the newest base)',
    args: AddLayerArgs,
    result: ChangeResultSchema,
    run: (engine, args, context) => engine.addLayer({ from: args.from, trial: args.trial }, context),
  }),
  'layer --latest': defineVerb({
    kind: 'read',
    summary: 'The newest layer (imgbase layer --latest)',
    args: NoArgs,
    result: NameResultSchema.layer,
    http: get('/v1/layers/latest'),
    run: async (engine, _args, context) => ({ layer: (await engine.latestLayer(context)).name }),
  }),
  'layer --current': defineVerb({
    kind: 'read',
    summary: 'The layer mounted at / (imgbase layer --current)',
    args: NoArgs,
    result: NameResultSchema.layer,
    http: get('/v1/layers/current'),
    run: async (engine, _args, context) => ({ layer: (await engine.currentLayer(context)).name }),
  }),
  'layer --volume-path': defineVerb({
    kind: 'read',
    summary: 'The device path of a base or layer (imgbase layer --volume-path NAME)',
    args: NameArg,
    result: NameResultSchema.path,
    http: get('/v1/volumes/:name/path', 'name'),
    run: async (engine, args, context) => ({ path: await engine.volumePath(args.name, context) }),
  }),
  w: defineVerb({
    kind: 'read',
    summary: 'Which layer is running (imgbase w)',
    args: NoArgs,
    result: NameResultSchema.layer,
    http: get('/v1/w'),
    run: async (engine, _args, context) => ({ layer: (await engine.currentLayer(context)).name }),
  }),
  'boot --list': defineVerb({
    kind: 'read',
    summary: 'The boot entries, the default and the one-shot (imgbase boot --list)',
    args: NoArgs,
    result: BootListSchema,
    http: get('/v1/boot/entries'),
    run: (engine, _args, context) => engine.bootList(context),
  }),
  'boot --get-default': defineVerb({
    kind: 'read',
    summary: 'The boot entry and layer booted by default (imgbase boot --get-default)',
    args: NoArgs,
    result: BootDefaultSchema,
    http: get('/v1/boot/default'),
    run: (engine, _args, context) => engine.bootDefault(context),
  }),
  'boot --set-default': defineVerb({
    kind: 'change',
    summary: 'Boot a layer by default (with trial: boot it next as a trial; the default stays until it proves itself)',
    args: SetDefaultArgs,
    result: BootDefaultChangeSchema,
    run: (engine, args, context) =>
      args.trial ? engine.setDefaultBootAsTrial(args.layer, context) : engine.setDefaultBoot(args.layer, context),
  }),
  'boot --next': defineVerb({
    kind: 'change',
    summary: 'Boot a layer at the next boot only, then the default again',
    args: LayerArg,
    result: BootChangeSchema,
    run: (engine, args, context) => engine.setNextBoot(args.layer, context),
  }),
  'boot --kernel-args': defineVerb({
    kind: 'read',
    summary: 'The kernel arguments of a layer’s boot entry (imgbase boot --kernel-args NAME)',
    args: NameArg,
    result: KernelArgsSchema,
    http: get('/v1/layers/:name/kernel-args', 'name'),
    run: (engine, args, context) => engine.kernelArgs(args.name, context),
  }),
  'boot --edit-kernel-args': defineVerb({
    kind: 'change',
    summary: 'Change the kernel arguments of a layer’s boot entry',
    args: EditKernelArgsArgs,
    result: KernelArgsChangeSchema,
    run: (engine, args, context) =>
      engine.editKernelArgs(args.layer, { append: args.append, delete: args.delete }, context),
  }),
  update: defineVerb({
    kind: 'change',
    summary: 'Install an image as a new base, carry the admin’s state over into its first layer, boot it next',
    args: UpdateArgs,
    result: UpdateResultSchema,
    run: (engine, args, context) =>
      engine.update(
        {
          image: args.image,
          nvr: args.nvr,
          format: args.format,
          sha256: args.sha256,
          from: args.from,
          keep: args.keep,
        },
        context,
      ),
  }),
  rollback: defineVerb({
    kind: 'change',
    summary: 'Boot the previous base’s newest layer (or a given layer) by default',
    args: RollbackArgs,
    result: RollbackResultSchema,
    run: (engine, args, context) => engine.rollback({ to: args.to }, context),
  }),
} as const satisfies Record<string, VerbDefinition>;

/**
 * Every verb of `imgbase`, once: its arguments, its result and the engine call. Keys are the verbs as
 * the JSON envelopes name them. The order is that of the published schema and of the API's routes.
 */
export const VERBS = { ...IMAGE_VERBS, ...TRIAL_VERBS, ...ADMIN_VERBS } as const;

/** A verb of `imgbase`, as JSON envelopes name it: `layout`, `layout --bases`, …, `w`. */
export type VerbName = keyof typeof VERBS;
/** The verbs that change the system (root only; jobs in the daemon). */
export type ChangeVerbName = { [V in VerbName]: (typeof VERBS)[V]['kind'] extends 'change' ? V : never }[VerbName];
export type ReadVerbName = Exclude<VerbName, ChangeVerbName>;
/** A verb's arguments, as `run` takes them and the daemon's requests carry them. */
export type VerbArgs<V extends VerbName> = z.output<(typeof VERBS)[V]['args']>;

/** The verbs, in table order. */
export const VERB_NAMES = Object.keys(VERBS) as VerbName[];

/** Runs one verb through the table (for callers holding the verb's name as a value). */
export async function runVerb<V extends VerbName>(
  verb: V,
  engine: VerbEngine,
  args: VerbArgs<V>,
  context: OperationContext,
): Promise<z.output<(typeof VERBS)[V]['result']>> {
  const definition: VerbDefinition = VERBS[verb];
  return definition.run(engine, args, context) as Promise<z.output<(typeof VERBS)[V]['result']>>;
}

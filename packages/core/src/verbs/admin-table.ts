import {
  CheckReportSchema,
  LayerDiffSchema,
  LayerMountSchema,
  MotdSchema,
  RecoverResultSchema,
  RecoveryListSchema,
  StatusSchema,
  VolumeChangeResultSchema,
  VolumeListSchema,
} from '../layout/admin-schema.js';
import { parseSize } from '../naming/nvr.js';
import { CreateVolumeArgs, DiffLayersArgs, LayerArg, MountLayerArgs, NoArgs, VolumePathArg } from './args.js';
import { defineVerb, type VerbDefinition } from './verb.js';

const get = (path: string, param?: 'name') => ({ method: 'GET' as const, path, ...(param ? { param } : {}) });

/** The host administration verbs (issue 13): status, check, motd, volume, recover, layer --mount/--umount/--diff. */
export const ADMIN_VERBS = {
  status: defineVerb({
    kind: 'read',
    summary: 'The running layer, default and next boot, each layer’s boot state, the last update, pool use, warnings',
    args: NoArgs,
    result: StatusSchema,
    http: get('/v1/status'),
    run: (engine, _args, context) => engine.status(context),
  }),
  check: defineVerb({
    kind: 'read',
    summary: 'Judge the bootloader, mount points, thin storage and leftovers (exit code 0 ok, 1 degraded, 2 failed)',
    args: NoArgs,
    result: CheckReportSchema,
    http: get('/v1/check'),
    run: (engine, _args, context) => engine.check(context),
  }),
  motd: defineVerb({
    kind: 'read',
    summary: 'The one status line for /etc/motd.d/ (imgbase motd)',
    args: NoArgs,
    result: MotdSchema,
    http: get('/v1/motd'),
    run: (engine, _args, context) => engine.motd(false, context),
  }),
  'motd --update': defineVerb({
    kind: 'change',
    summary: 'Write the status line to /etc/motd.d/50-imgbased',
    args: NoArgs,
    result: MotdSchema,
    run: (engine, _args, context) => engine.motd(true, context),
  }),
  'volume --list': defineVerb({
    kind: 'read',
    summary: 'The separate volumes: where they belong, where they are mounted, whether the running layer mounts them',
    args: NoArgs,
    result: VolumeListSchema,
    http: get('/v1/volumes'),
    run: (engine, _args, context) => engine.listVolumes(context),
  }),
  'volume --create': defineVerb({
    kind: 'change',
    summary: 'A separate thin volume for PATH: its data moved in, mounted by a unit in the running (or newest) layer',
    args: CreateVolumeArgs,
    result: VolumeChangeResultSchema,
    run: async (engine, args, context) => engine.createVolume(args.path, parseSize(args.size), context),
  }),
  'volume --remove': defineVerb({
    kind: 'change',
    summary: 'Remove the separate volume of PATH and its mount unit (refused while it is mounted)',
    args: VolumePathArg,
    result: VolumeChangeResultSchema,
    run: (engine, args, context) => engine.removeVolume(args.path, context),
  }),
  'volume --attach': defineVerb({
    kind: 'change',
    summary: 'Mount the separate volume of PATH again: its unit into the running (or newest) layer',
    args: VolumePathArg,
    result: VolumeChangeResultSchema,
    run: (engine, args, context) => engine.attachVolume(args.path, context),
  }),
  'volume --detach': defineVerb({
    kind: 'change',
    summary: 'Stop mounting the separate volume of PATH (its unit out of the layer; the volume is kept)',
    args: VolumePathArg,
    result: VolumeChangeResultSchema,
    run: (engine, args, context) => engine.detachVolume(args.path, context),
  }),
  'recover --list': defineVerb({
    kind: 'read',
    summary: 'What interrupted operations and manual meddling left, as recover --yes would repair it',
    args: NoArgs,
    result: RecoveryListSchema,
    http: get('/v1/recovery'),
    run: (engine, _args, context) => engine.recoveryList(context),
  }),
  'recover --yes': defineVerb({
    kind: 'change',
    summary: 'Repair what recover --list shows: the automatic recovery, then the layers’ missing boot entries',
    args: NoArgs,
    result: RecoverResultSchema,
    run: (engine, _args, context) => engine.recover(context),
  }),
  'layer --mount': defineVerb({
    kind: 'change',
    summary: 'Mount a layer or base for a look inside (read-only unless rw)',
    args: MountLayerArgs,
    result: LayerMountSchema,
    run: (engine, args, context) =>
      engine.mountLayer({ name: args.name, directory: args.directory, readWrite: Boolean(args.rw) }, context),
  }),
  'layer --umount': defineVerb({
    kind: 'change',
    summary: 'Unmount what layer --mount mounted',
    args: LayerArg,
    result: LayerMountSchema,
    run: (engine, args, context) => engine.unmountLayer(args.layer, context),
  }),
  'layer --diff': defineVerb({
    kind: 'read',
    summary: 'Paths added, removed and changed between two layers, or a layer and its base (GET: with its base)',
    args: DiffLayersArgs,
    result: LayerDiffSchema,
    http: get('/v1/layers/:name/diff', 'name'),
    run: (engine, args, context) =>
      engine.diffLayers({ name: args.name, with: args.with, content: args.content }, context),
  }),
} as const satisfies Record<string, VerbDefinition>;

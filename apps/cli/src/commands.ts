import {
  type ChangeVerbName,
  formatSizeIn,
  type OperationContext,
  UsageError,
  type VerbArgs,
  type VerbName,
  type VerbResult,
} from '@imgbased/core';
import { type Command, Option } from 'commander';
import { addAdminCommands, addLayerAdminOptions, LAYER_ADMIN_FLAGS, runLayerAdmin } from './commands-admin.js';
import { addTrialOptions, runTrial, TRIAL_FLAGS } from './commands-trial.js';
import { bootChanged, bootListed, changed, kernelArgsChanged, lines, type Outcome, oneLine } from './human.js';
import { adopted } from './human-adopt.js';
import { pinChanged, rolledBack, updated } from './human-update.js';
import { layoutTree } from './output.js';

/** The operation context of one invocation, with the verb table at hand. */
export interface VerbContext extends OperationContext {
  /** Names the exact verb (a key of core's VERBS) for the JSON envelope. */
  as(verb: VerbName): void;
  /** Names a changing verb and refuses it when not root (before its arguments are checked, where wanted). */
  changing(verb: ChangeVerbName): void;
  /** Names the verb, refuses a changing one when not root, and makes its engine call: `VERBS[verb].run`. */
  run<V extends VerbName>(verb: V, args: VerbArgs<V>): Promise<VerbResult<V>>;
}

export type Handler = (options: Record<string, unknown>, context: VerbContext) => Promise<Outcome>;

export interface CommandKit {
  /**
   * The options every command has (and --dry-run for those with changing verbs); `exclusive` names
   * options (by attribute name) of which at most one may be given (commander refuses the rest).
   */
  readonly common: (command: Command, mutating: boolean, exclusive?: readonly string[]) => Command;
  /** The commander action of a command: parses, builds the engine, runs the handler. */
  readonly act: (name: string, handler: Handler) => (...args: unknown[]) => Promise<void>;
}

/**
 * The commands of `imgbase`. Each flag picks a verb of core's table and builds its arguments; the
 * engine call and the result's shape are the table's, so only flags and human output live here.
 */
export function addCommands(program: Command, { common, act }: CommandKit): void {
  common(
    program
      .command('layout')
      .description('list bases and layers, or create the layout')
      .argument('[NVR]', 'with --init: the first base (same as --init-nvr)')
      .option('--init', 'create the layout: tag the volume group and thin pool, make the first base and layer')
      .option('--from <SRC>', 'with --init: the root volume: /, VG/LV, /dev/VG/LV or @TAG', '/')
      .option('--init-nvr <NVR>', 'with --init: the first base')
      .option('--bases', 'list the bases, one per line')
      .option('--layers', 'list the layers, one per line')
      .option('--free-space', 'free space in the thin pool')
      .option('--adopt', 'bring a layout the original imgbased made to imgbased’s conventions (undone on failure)')
      .addOption(
        new Option('--units <UNIT>', 'with --free-space').choices(['b', 'k', 'm', 'g', 't', 'p']).default('m'),
      ),
    true,
    ['init', 'bases', 'layers', 'freeSpace', 'adopt'],
  ).action(
    act('layout', async (o, context) => {
      if (o.init) {
        context.as('layout --init');
        const nvr = (o.initNvr as string | undefined) ?? (o.args as string[])[0];
        if (!nvr) throw new UsageError('layout --init needs the first base: imgbase layout --init NVR [--from SRC]');
        return changed(await context.run('layout --init', { nvr, from: o.from as string }));
      }
      if (o.adopt) return adopted(await context.run('layout --adopt', {}));
      if (o.bases) {
        const result = await context.run('layout --bases', {});
        return { data: result, human: lines(result.bases) };
      }
      if (o.layers) {
        const result = await context.run('layout --layers', {});
        return { data: result, human: lines(result.layers) };
      }
      if (o.freeSpace) {
        const free = await context.run('layout --free-space', {});
        return oneLine(free, formatSizeIn(free.freeBytes, o.units as string));
      }
      const layout = await context.run('layout', {});
      return { data: layout, human: layoutTree(layout) };
    }),
  );

  common(
    program
      .command('base')
      .description('add, remove or find bases')
      .argument('[IMAGE]', 'with --add: an ext4 file system image to fill the new base with')
      .option('--add <NVR>', 'add a read-only base')
      .option('--size <SIZE>', 'with --add: size of the thin volume, e.g. 1G (MiB without a unit)')
      .option('--remove <BASE>', 'remove a base and all its layers')
      .option('--pin <BASE>', 'keep a base from garbage collection')
      .option('--unpin <BASE>', 'let garbage collection remove a pinned base again')
      .option('--latest', 'the newest base')
      .option('--of-layer <LAYER>', 'the base of a layer'),
    true,
    ['add', 'remove', 'pin', 'unpin', 'latest', 'ofLayer'],
  ).action(
    act('base', async (o, context) => {
      if (o.add !== undefined) {
        context.changing('base --add');
        if (o.size === undefined) throw new UsageError('base --add needs --size, e.g. --size 1G');
        const args = { nvr: o.add as string, size: o.size as string, image: (o.args as string[])[0] };
        return changed(await context.run('base --add', args));
      }
      if (o.remove !== undefined) return changed(await context.run('base --remove', { name: o.remove as string }));
      if (o.pin !== undefined) return pinChanged(await context.run('base --pin', { name: o.pin as string }));
      if (o.unpin !== undefined) return pinChanged(await context.run('base --unpin', { name: o.unpin as string }));
      if (o.latest) {
        const result = await context.run('base --latest', {});
        return oneLine(result, result.base);
      }
      if (o.ofLayer !== undefined) {
        const result = await context.run('base --of-layer', { name: o.ofLayer as string });
        return oneLine(result, result.base);
      }
      throw new UsageError('base needs one of --add, --remove, --pin, --unpin, --latest, --of-layer');
    }),
  );

  common(
    addLayerAdminOptions(
      program
        .command('layer')
        .description('add, find, mount or compare layers')
        .argument(
          '[BASE|LAYER]',
          'with --add: the base or layer to start from (default: the newest base); with --diff: the one to compare with; with --mount: the directory',
        )
        .option('--add', 'add a writable layer (it boots by default)')
        .option('--trial', 'with --add: the new layer boots next as a trial, the default stays until it proves itself')
        .option('--latest', 'the newest layer')
        .option('--current', 'the layer mounted at /')
        .option('--volume-path <BASE|LAYER>', 'the device path of a base or layer'),
    ),
    true,
    ['add', 'latest', 'current', 'volumePath', ...LAYER_ADMIN_FLAGS],
  ).action(
    act('layer', async (o, context) => {
      const admin = await runLayerAdmin(o, context);
      if (admin) return admin;
      if (o.trial && !o.add) throw new UsageError('--trial goes with --add');
      if (o.add) {
        const from = (o.args as string[])[0];
        return changed(await context.run('layer --add', o.trial ? { from, trial: true } : { from }));
      }
      if (o.latest || o.current) {
        const result = await context.run(o.latest ? 'layer --latest' : 'layer --current', {});
        return oneLine(result, result.layer);
      }
      if (o.volumePath !== undefined) {
        const result = await context.run('layer --volume-path', { name: o.volumePath as string });
        return oneLine(result, result.path);
      }
      throw new UsageError(
        'layer needs one of --add, --latest, --current, --volume-path, --mount LAYER [DIR], --umount LAYER, --diff LAYER [OTHER]',
      );
    }),
  );

  common(
    addTrialOptions(
      program
        .command('boot')
        .description('boot entries: list them, the default, or choose the layer to boot (or try it: a trial)')
        .option('--list', 'the boot entries, the default (*) and the one-shot (>)')
        .option('--get-default', 'the layer booted by default')
        .option('--set-default <LAYER>', 'boot LAYER by default')
        .option('--next <LAYER>', 'boot LAYER at the next boot only, then the default again')
        .option('--kernel-args <LAYER>', 'the kernel arguments of LAYER’s entry')
        .option('--edit-kernel-args <LAYER>', 'change the kernel arguments of LAYER’s entry (with --append, --delete)')
        .option('--append <ARG>', 'with --edit-kernel-args: add ARG (key=value replaces the key’s value)', collect, [])
        .option('--delete <ARG>', 'with --edit-kernel-args: take out ARG (a bare key takes every value)', collect, []),
    ),
    true,
    ['list', 'getDefault', 'setDefault', 'next', 'kernelArgs', 'editKernelArgs', ...TRIAL_FLAGS],
  ).action(
    act('boot', async (o, context) => {
      const trial = await runTrial(o, context);
      if (trial) return trial;
      const append = o.append as string[];
      const remove = o.delete as string[];
      if ((append.length > 0 || remove.length > 0) && o.editKernelArgs === undefined)
        throw new UsageError('--append and --delete go with --edit-kernel-args LAYER');
      if (o.editKernelArgs !== undefined) {
        const layer = o.editKernelArgs as string;
        const edit = { layer, append, delete: remove };
        return kernelArgsChanged(await context.run('boot --edit-kernel-args', edit), layer);
      }
      if (o.kernelArgs !== undefined) {
        const args = await context.run('boot --kernel-args', { name: o.kernelArgs as string });
        return oneLine(args, args.options.join(' '));
      }
      if (o.setDefault !== undefined || o.next !== undefined) {
        const once = o.next !== undefined;
        const layer = (once ? o.next : o.setDefault) as string;
        return bootChanged(await context.run(once ? 'boot --next' : 'boot --set-default', { layer }), layer, once);
      }
      if (o.getDefault) {
        const found = await context.run('boot --get-default', {});
        return oneLine(found, found.layer ?? found.entry ?? '');
      }
      if (o.list) return bootListed(await context.run('boot --list', {}));
      throw new UsageError(
        'boot needs one of --list, --get-default, --set-default LAYER, --next LAYER, --kernel-args LAYER, --edit-kernel-args LAYER, --trial LAYER, --trial-status, --mark-good [LAYER], --mark-bad LAYER, --check-trial',
      );
    }),
  );

  common(
    program
      .command('update')
      .description('install an image as a new base, carry the admin’s state over, boot it next')
      .argument('<IMAGE>', 'an image file or an http(s):// URL: ext4, squashfs, liveimg or tar (gzip, xz, zstd)')
      .option('--nvr <NVR>', 'the new base’s NVR (default: from the image’s os-release, else its file name)')
      .addOption(new Option('--format <FORMAT>', 'the image’s format').choices(['auto', 'ext4', 'squashfs', 'tar']))
      .option('--sha256 <HEX>', 'the image’s SHA-256 (default: IMAGE.sha256 beside it, when there is one)')
      .option('--from <LAYER>', 'the layer whose state is carried over (default: the running layer)')
      .option('--keep <N>', 'bases kept after the update (default: [update] images_to_keep)', wholeNumber),
    true,
  ).action(
    act('update', async (o, context) => {
      const args = {
        image: (o.args as string[])[0]!,
        nvr: o.nvr as string | undefined,
        format: o.format as 'auto' | 'ext4' | 'squashfs' | 'tar' | undefined,
        sha256: o.sha256 as string | undefined,
        from: o.from as string | undefined,
        keep: o.keep as number | undefined,
      };
      return updated(await context.run('update', args));
    }),
  );

  common(
    program
      .command('rollback')
      .description('boot the previous base’s newest layer by default (or --to LAYER)')
      .option('--to <LAYER>', 'the layer to boot by default'),
    true,
  ).action(
    act('rollback', async (o, context) =>
      rolledBack(await context.run('rollback', { to: o.to as string | undefined })),
    ),
  );

  addAdminCommands(program, { common, act });

  common(program.command('w').description('which layer is running'), false).action(
    act('w', async (_o, context) => {
      const result = await context.run('w', {});
      return oneLine(result, `You are on ${result.layer}`);
    }),
  );
}

/** A whole number option (the engine checks its range). */
function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`expected a whole number, not '${value}'`);
  return Number(value);
}

/** Commander's reducer for an option given more than once. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

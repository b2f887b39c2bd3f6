import { UsageError } from '@imgbased/core';
import type { Command } from 'commander';
import type { CommandKit } from './commands.js';
import {
  checkShown,
  layerMounted,
  layersDiffed,
  motdShown,
  recovered,
  recoveryListed,
  statusShown,
  volumeChanged,
  volumesListed,
} from './human-admin.js';

/** The exit codes of `imgbase check`, in its help and man page. */
export const CHECK_EXIT_CODES_TEXT = 'exit code 0: ok; 1: degraded (warnings); 2: failed (a check failed)';

/** The host administration commands: status, check, motd, volume, recover (layer's flags are in commands.ts). */
export function addAdminCommands(program: Command, { common, act }: CommandKit): void {
  common(
    program.command('status').description('the host at a glance: running layer, boots, layers, pool, warnings'),
    false,
  ).action(act('status', async (_o, context) => statusShown(await context.run('status', {}))));

  common(
    program
      .command('check')
      .description(`judge the bootloader, mount points, thin storage and leftovers (${CHECK_EXIT_CODES_TEXT})`)
      .addHelpText('after', `\nimgbase check: ${CHECK_EXIT_CODES_TEXT}; other failures exit 1 as usual.\n`),
    false,
  ).action(act('check', async (_o, context) => checkShown(await context.run('check', {}))));

  common(
    program
      .command('motd')
      .description('one status line for /etc/motd.d/ (OK, or DEGRADED/FAILED with the reason)')
      .option('--update', 'write it to /etc/motd.d/50-imgbased (the imgbased-motd timer does, every 15 minutes)'),
    true,
  ).action(act('motd', async (o, context) => motdShown(await context.run(o.update ? 'motd --update' : 'motd', {}))));

  common(
    program
      .command('volume')
      .description('separate volumes for /var, /var/log, /home… (thin volumes mounted by a unit in the layer)')
      .argument('[SIZE]', 'with --create: the volume’s size, e.g. 4G (MiB without a unit)')
      .option('--list', 'the separate volumes, where they are mounted, whether the running layer mounts them')
      .option('--create <PATH>', 'a volume for PATH: the data there moved in, a mount unit (discard) in the layer')
      .option('--remove <PATH>', 'remove the volume of PATH and its mount unit (refused while it is mounted)')
      .option('--attach <PATH>', 'write the mount unit of PATH’s volume into the layer again')
      .option('--detach <PATH>', 'take the mount unit of PATH’s volume out of the layer (the volume is kept)'),
    true,
    ['list', 'create', 'remove', 'attach', 'detach'],
  ).action(
    act('volume', async (o, context) => {
      if (o.create !== undefined) {
        context.changing('volume --create');
        const size = (o.args as string[])[0];
        if (size === undefined) throw new UsageError('volume --create needs a size: imgbase volume --create PATH SIZE');
        return volumeChanged(await context.run('volume --create', { path: o.create as string, size }));
      }
      for (const flag of ['remove', 'attach', 'detach'] as const) {
        const path = o[flag] as string | undefined;
        if (path !== undefined) return volumeChanged(await context.run(`volume --${flag}`, { path }));
      }
      if (o.list) return volumesListed(await context.run('volume --list', {}));
      throw new UsageError(
        'volume needs one of --list, --create PATH SIZE, --remove PATH, --attach PATH, --detach PATH',
      );
    }),
  );

  common(
    program
      .command('recover')
      .description('show (--list, the default) or repair (--yes) what interrupted operations and meddling left')
      .option('--list', 'show what would be repaired; changes nothing')
      .option('--yes', 'repair it: pending volumes, stray entries and files, leftover mounts, missing entries'),
    true,
    ['list', 'yes'],
  ).action(
    act('recover', async (o, context) =>
      o.yes
        ? recovered(await context.run('recover --yes', {}))
        : recoveryListed(await context.run('recover --list', {})),
    ),
  );
}

/** The admin flags of `imgbase layer`, and their handler (undefined when none of them is given). */
export function addLayerAdminOptions(command: Command): Command {
  return command
    .option(
      '--mount <BASE|LAYER>',
      'mount a layer or base for a look inside (read-only; DIR as argument, default /run/imgbased/layers/NAME)',
    )
    .option('--rw', 'with --mount: read-write (never a base or the running layer)')
    .option('--umount <BASE|LAYER>', 'unmount what --mount mounted')
    .option('--diff <BASE|LAYER>', 'what differs from the base or layer given as argument (default: its base)')
    .option('--content', 'with --diff: unified diffs of changed text files');
}

export const LAYER_ADMIN_FLAGS = ['mount', 'umount', 'diff'] as const;

export async function runLayerAdmin(
  o: Record<string, unknown>,
  context: Parameters<Parameters<CommandKit['act']>[1]>[1],
): Promise<ReturnType<typeof layerMounted> | undefined> {
  const argument = (o.args as string[])[0];
  if (o.rw && o.mount === undefined) throw new UsageError('--rw goes with --mount LAYER');
  if (o.content && o.diff === undefined) throw new UsageError('--content goes with --diff LAYER');
  if (o.mount !== undefined) {
    const args = { name: o.mount as string, directory: argument, rw: Boolean(o.rw) };
    return layerMounted(await context.run('layer --mount', args), true);
  }
  if (o.umount !== undefined)
    return layerMounted(await context.run('layer --umount', { layer: o.umount as string }), false);
  if (o.diff !== undefined) {
    const args = { name: o.diff as string, with: argument, content: Boolean(o.content) };
    return layersDiffed(await context.run('layer --diff', args));
  }
  return undefined;
}

import {
  type ChangeResult,
  type EngineEvent,
  formatSizeIn,
  type ImageEngine,
  type ImgbasedError,
  NotRootError,
  parseSize,
  toImgbasedError,
  UsageError,
  type VerbResultSchemas,
} from '@imgbased/core';
import { Command, CommanderError, Option } from 'commander';
import { jsonFailure, jsonSuccess, layoutTree, shellQuote } from './output.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isRoot: boolean;
}

export interface EngineOptions {
  readonly dryRun: boolean;
  readonly debug: boolean;
}

export interface CliDependencies {
  readonly io: CliIo;
  readonly version: string;
  /** Builds the engine (the app's DI container); called once per invocation, after parsing. */
  readonly createEngine: (options: EngineOptions) => Promise<ImageEngine>;
  readonly signal?: AbortSignal;
}

export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

interface Outcome {
  readonly data: unknown;
  readonly human: string;
}

interface GlobalFlags {
  json?: boolean;
  debug?: boolean;
  dryRun?: boolean;
}

/** Runs one `imgbase` invocation and returns its exit code; prints only through `io`. */
export async function runCli(argv: readonly string[], deps: CliDependencies): Promise<number> {
  const { io } = deps;
  let verb = argv.find((a) => !a.startsWith('-')) ?? 'imgbase';
  let flags: GlobalFlags = { json: argv.includes('--json') };
  let outcome: Outcome | undefined;

  const act =
    (
      name: string,
      mutating: boolean,
      handler: (engine: ImageEngine, options: Record<string, unknown>, context: Ctx) => Promise<Outcome>,
    ) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      verb = name;
      flags = command.optsWithGlobals<GlobalFlags>();
      const options = { ...command.opts(), args: command.args };
      if (mutating && !io.isRoot) throw new NotRootError(name);
      const engine = await deps.createEngine({ dryRun: Boolean(flags.dryRun), debug: Boolean(flags.debug) });
      outcome = await handler(engine, options, {
        signal: deps.signal,
        report: reporter(io, flags),
        as: (v) => (verb = v),
      });
    };

  const program = new Command('imgbase')
    .description('Image-based management of Linux hosts: read-only bases, writable layers, one boot entry each')
    .option('--debug', 'show every step and command')
    .option('--json', 'answer with JSON (schema version 1)')
    .version(`imgbased-${deps.version}`, '--version')
    .enablePositionalOptions(false)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  const common = (command: Command, mutating: boolean) => {
    command.option('--json', 'answer with JSON (schema version 1)').option('--debug', 'show every step and command');
    if (mutating) command.option('--dry-run', 'print the commands that would change the system, change nothing');
    return command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  };

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
      .addOption(new Option('--units <UNIT>', 'with --free-space: b, k, m, g, t or p').default('m')),
    true,
  ).action(
    act('layout', false, async (engine, o, context) => {
      if (o.init) {
        context.as('layout --init');
        const nvr = (o.initNvr as string | undefined) ?? (o.args as string[])[0];
        if (!nvr) throw new UsageError('layout --init needs the first base: imgbase layout --init NVR [--from SRC]');
        if (!io.isRoot) throw new NotRootError('layout --init');
        return changed(await engine.initLayout({ nvr, from: o.from as string }, context));
      }
      if (o.bases) {
        context.as('layout --bases');
        const bases = (await engine.layout(context)).bases.map((b) => b.name);
        return { data: { bases }, human: lines(bases) };
      }
      if (o.layers) {
        context.as('layout --layers');
        const layers = (await engine.layout(context)).bases.flatMap((b) => b.layers.map((l) => l.name));
        return { data: { layers }, human: lines(layers) };
      }
      if (o.freeSpace) {
        context.as('layout --free-space');
        const free = await engine.freeSpace(context);
        return { data: free, human: `${formatSizeIn(free.freeBytes, o.units as string)}\n` };
      }
      const layout = await engine.layout(context);
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
      .option('--latest', 'the newest base')
      .option('--of-layer <LAYER>', 'the base of a layer'),
    true,
  ).action(
    act('base', false, async (engine, o, context) => {
      if (o.add !== undefined) {
        context.as('base --add');
        if (!io.isRoot) throw new NotRootError('base --add');
        if (o.size === undefined) throw new UsageError('base --add needs --size, e.g. --size 1G');
        const sizeBytes = parseSize(o.size as string);
        return changed(
          await engine.addBase({ nvr: o.add as string, sizeBytes, image: (o.args as string[])[0] }, context),
        );
      }
      if (o.remove !== undefined) {
        context.as('base --remove');
        if (!io.isRoot) throw new NotRootError('base --remove');
        return changed(await engine.removeBase(o.remove as string, context));
      }
      if (o.latest) context.as('base --latest');
      if (o.ofLayer !== undefined) context.as('base --of-layer');
      if (o.latest) return named('base', (await engine.latestBase(context)).name);
      if (o.ofLayer !== undefined) return named('base', (await engine.baseOfLayer(o.ofLayer as string, context)).name);
      throw new UsageError('base needs one of --add, --remove, --latest, --of-layer');
    }),
  );

  common(
    program
      .command('layer')
      .description('add or find layers')
      .argument('[IMAGE]', 'with --add: the base or layer to start from (default: the newest base)')
      .option('--add', 'add a writable layer')
      .option('--latest', 'the newest layer')
      .option('--current', 'the layer mounted at /')
      .option('--volume-path <NVR>', 'the device path of a base or layer'),
    true,
  ).action(
    act('layer', false, async (engine, o, context) => {
      if (o.add) {
        context.as('layer --add');
        if (!io.isRoot) throw new NotRootError('layer --add');
        return changed(await engine.addLayer({ from: (o.args as string[])[0] }, context));
      }
      if (o.latest) context.as('layer --latest');
      if (o.current) context.as('layer --current');
      if (o.volumePath !== undefined) context.as('layer --volume-path');
      if (o.latest) return named('layer', (await engine.latestLayer(context)).name);
      if (o.current) return named('layer', (await engine.currentLayer(context)).name);
      if (o.volumePath !== undefined) {
        const path = await engine.volumePath(o.volumePath as string, context);
        return { data: { path }, human: `${path}\n` };
      }
      throw new UsageError('layer needs one of --add, --latest, --current, --volume-path');
    }),
  );

  common(
    program
      .command('boot')
      .description('boot entries: list them, the default, or choose the layer to boot')
      .option('--list', 'the boot entries, the default (*) and the one-shot (>)')
      .option('--get-default', 'the layer booted by default')
      .option('--set-default <LAYER>', 'boot LAYER by default')
      .option('--next <LAYER>', 'boot LAYER at the next boot only, then the default again')
      .option('--kernel-args <LAYER>', 'the kernel arguments of LAYER’s entry')
      .option('--edit-kernel-args <LAYER>', 'change the kernel arguments of LAYER’s entry (with --append, --delete)')
      .option('--append <ARG>', 'with --edit-kernel-args: add ARG (key=value replaces the key’s value)', collect, [])
      .option('--delete <ARG>', 'with --edit-kernel-args: take out ARG (a bare key takes every value)', collect, []),
    true,
  ).action(
    act('boot', false, async (engine, o, context) => {
      const append = o.append as string[];
      const remove = o.delete as string[];
      if ((append.length > 0 || remove.length > 0) && o.editKernelArgs === undefined)
        throw new UsageError('--append and --delete go with --edit-kernel-args LAYER');
      if (o.editKernelArgs !== undefined) {
        const layer = o.editKernelArgs as string;
        context.as('boot --edit-kernel-args');
        if (!io.isRoot) throw new NotRootError('boot --edit-kernel-args');
        const change = await engine.editKernelArgs(layer, { append, delete: remove }, context);
        const human = change.dryRun
          ? `Dry run: nothing was changed. ${layer} would boot with: ${change.options.join(' ')}\n`
          : `${layer} boots with: ${change.options.join(' ')}${change.atomic ? '' : ' (not written atomically on this file system)'}\n`;
        return { data: change, human };
      }
      if (o.kernelArgs !== undefined) {
        context.as('boot --kernel-args');
        const args = await engine.kernelArgs(o.kernelArgs as string, context);
        return { data: args, human: `${args.options.join(' ')}\n` };
      }
      if (o.setDefault !== undefined || o.next !== undefined) {
        const once = o.next !== undefined;
        const layer = (once ? o.next : o.setDefault) as string;
        context.as(once ? 'boot --next' : 'boot --set-default');
        if (!io.isRoot) throw new NotRootError(once ? 'boot --next' : 'boot --set-default');
        const change = once ? await engine.setNextBoot(layer, context) : await engine.setDefaultBoot(layer, context);
        const what = once ? 'at the next boot only' : 'by default';
        const human = change.dryRun
          ? `Dry run: nothing was changed. ${layer} (${change.entry}) would boot ${what}\n`
          : `${layer} boots ${what} (${change.bootloader}${change.atomic ? '' : ', not written atomically on this file system'})\n`;
        return { data: change, human };
      }
      if (o.getDefault) {
        context.as('boot --get-default');
        const found = await engine.bootDefault(context);
        return { data: found, human: `${found.layer ?? found.entry ?? ''}\n` };
      }
      if (o.list) {
        context.as('boot --list');
        const list = await engine.bootList(context);
        if (list.bootloader === null) return { data: list, human: '' };
        const out = list.entries.map(
          (e) =>
            `${e.isDefault ? '*' : ' '}${e.isNext ? '>' : ' '} ${e.layer ?? `(${e.id})`}  ${e.title}${e.triesLeft === null ? '' : `  [${e.triesLeft} tries left]`}`,
        );
        return { data: list, human: lines(out) };
      }
      throw new UsageError(
        'boot needs one of --list, --get-default, --set-default LAYER, --next LAYER, --kernel-args LAYER, --edit-kernel-args LAYER',
      );
    }),
  );

  common(program.command('w').description('which layer is running'), false).action(
    act('w', false, async (engine, _o, context) => {
      const layer = await engine.currentLayer(context);
      return { data: { layer: layer.name }, human: `You are on ${layer.name}\n` };
    }),
  );

  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (outcome === undefined) {
      // No verb: commander has printed the help or the version already when asked for.
      if (argv.length === 0) {
        io.stderr(program.helpInformation());
        return ExitCode.usage;
      }
      return ExitCode.ok;
    }
    io.stdout(flags.json ? jsonSuccess(verb, outcome.data) : outcome.human);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.ok;
      // Commander has already printed its one-line message.
      return ExitCode.usage;
    }
    const failure: ImgbasedError = toImgbasedError(error);
    if (flags.json) io.stdout(jsonFailure(verb, failure));
    io.stderr(`imgbase: ${failure.message}\n`);
    if (flags.debug && failure.stack) io.stderr(`${failure.stack}\n`);
    return failure.code === 'E_USAGE' ? ExitCode.usage : ExitCode.failed;
  }
}

type Ctx = {
  signal: AbortSignal | undefined;
  report: (event: EngineEvent) => void;
  /** Names the exact action (a key of VerbResultSchemas) for the JSON envelope. */
  as: (verb: keyof typeof VerbResultSchemas) => void;
};

function reporter(io: CliIo, flags: GlobalFlags): (event: EngineEvent) => void {
  return (event) => {
    if (event.type === 'warning') io.stderr(`imgbase: warning: ${event.message}\n`);
    else if (!flags.debug) return;
    else if (event.type === 'step' || event.type === 'undo')
      io.stderr(`[${event.type === 'undo' ? 'undo' : event.step}] ${event.message}\n`);
    else if (event.type === 'command') io.stderr(`${event.planned ? '(dry run) ' : ''}$ ${shellQuote(event.argv)}\n`);
    else if (event.type === 'command-done') io.stderr(`  exit ${event.exitCode} after ${event.durationMs} ms\n`);
  };
}

function changed(result: ChangeResult): Outcome {
  const out: string[] = [];
  for (const name of result.recovered) out.push(`Removed ${name}, left half-made by an interrupted operation`);
  if (result.dryRun) {
    out.push('Dry run: nothing was changed. These commands would run:');
    for (const command of result.plan) out.push(`  ${shellQuote(command.argv)}`);
  } else {
    for (const name of result.created) out.push(`Created ${name}`);
    for (const name of result.removed) out.push(`Removed ${name}`);
    for (const id of result.boot?.added ?? []) out.push(`Added boot entry ${id} (${result.boot?.bootloader})`);
    for (const id of result.boot?.removed ?? []) out.push(`Removed boot entry ${id} (${result.boot?.bootloader})`);
  }
  return { data: result, human: lines(out) };
}

function named(kind: 'base' | 'layer', name: string): Outcome {
  return { data: { [kind]: name }, human: `${name}\n` };
}

function lines(items: readonly string[]): string {
  return items.length === 0 ? '' : `${items.join('\n')}\n`;
}

/** Commander's reducer for an option given more than once. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

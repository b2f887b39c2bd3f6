import {
  type ChangeVerbName,
  type EngineEvent,
  type ImgbasedError,
  NotRootError,
  runVerb,
  toImgbasedError,
  VERBS,
  type VerbEngine,
} from '@imgbased/core';
import { Command, CommanderError } from 'commander';
import { addCommands, type Handler, type VerbContext } from './commands.js';
import type { Outcome } from './human.js';
import { jsonFailure, jsonSuccess, shellQuote } from './output.js';

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
  readonly createEngine: (options: EngineOptions) => Promise<VerbEngine>;
  readonly signal?: AbortSignal;
}

export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

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
    (name: string, handler: Handler) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      verb = name;
      flags = command.optsWithGlobals<GlobalFlags>();
      const options = { ...command.opts(), args: command.args };
      const engine = await deps.createEngine({ dryRun: Boolean(flags.dryRun), debug: Boolean(flags.debug) });
      const context: VerbContext = {
        signal: deps.signal,
        report: reporter(io, flags),
        dryRun: Boolean(flags.dryRun),
        as: (name) => {
          verb = name;
        },
        changing: (name) => {
          verb = name;
          if (!io.isRoot) throw new NotRootError(name);
        },
        run: (name, verbArgs) => {
          // The table says which verbs change the system: those are root's only.
          if (VERBS[name].kind === 'change') context.changing(name as ChangeVerbName);
          else context.as(name);
          return runVerb(name, engine, verbArgs, context);
        },
      };
      outcome = await handler(options, context);
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

  addCommands(program, { common, act });

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

import {
  type ChangeVerbName,
  type EngineEvent,
  type ImgbasedError,
  NotRootError,
  runVerb,
  toImgbasedError,
  UsageError,
  VERBS,
  type VerbEngine,
} from '@imgbased/core';
import { type Command, CommanderError } from 'commander';
import type { Handler, VerbContext } from './commands.js';
import { ExitCode, exitCodeOf } from './exit-codes.js';
import { hintsAfter, hintsAfterFailure } from './hints.js';
import type { Outcome } from './human.js';
import { jsonFailure, jsonSuccess, shellQuote } from './output.js';
import { buildProgram } from './program.js';
import { type StatusLine, terminalStatusLine } from './progress.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isRoot: boolean;
  /** stderr is a terminal (of this many columns): a status line shows the running step there. */
  readonly stderrTerminal?: { readonly columns?: number | undefined } | undefined;
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
  /** `[core] debug` of the configuration, known once createEngine has read it: --debug's default. */
  readonly debugByDefault?: (() => boolean) | undefined;
  readonly signal?: AbortSignal;
  /** Phase timestamps (IMGBASED_TIMING=1, see timing.ts): after parsing, the verb and the output. */
  readonly mark?: ((phase: string) => void) | undefined;
}

export { ExitCode } from './exit-codes.js';

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
  let status: StatusLine | undefined;

  const act =
    (name: string, handler: Handler) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      verb = name;
      flags = command.optsWithGlobals<GlobalFlags>();
      const options = { ...command.opts(), args: command.args };
      deps.mark?.('parse');
      const engine = await deps.createEngine({ dryRun: Boolean(flags.dryRun), debug: Boolean(flags.debug) });
      if (flags.debug === undefined && deps.debugByDefault?.()) flags.debug = true;
      if (io.stderrTerminal && !flags.debug) status = terminalStatusLine(io.stderr, io.stderrTerminal);
      const context: VerbContext = {
        signal: deps.signal,
        report: reporter(io, flags, status),
        dryRun: Boolean(flags.dryRun),
        as: (name) => {
          verb = name;
        },
        changing: (name) => {
          verb = name;
          // A dry run changes nothing, so it needs no root of its own; what it reads may (LVM does).
          if (!io.isRoot && !flags.dryRun) throw new NotRootError(name);
        },
        run: (name, verbArgs) => {
          // The table says which verbs change the system: those are root's only.
          if (VERBS[name].kind === 'change') context.changing(name as ChangeVerbName);
          else context.as(name);
          return runVerb(name, engine, verbArgs, context);
        },
      };
      outcome = await handler(options, context);
      deps.mark?.('verb');
    };

  const program = buildProgram(deps.version, { writeOut: io.stdout, writeErr: io.stderr }, act);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    status?.clear();
    if (outcome === undefined) {
      // No verb: commander has printed the help or the version already when asked for.
      if (argv.length === 0) {
        io.stderr(program.helpInformation());
        return ExitCode.usage;
      }
      return ExitCode.ok;
    }
    io.stdout(flags.json ? jsonSuccess(verb, outcome.data) : outcome.human);
    if (!flags.json) for (const hint of hintsAfter(verb, outcome.data)) io.stderr(`imgbase: hint: ${hint}\n`);
    deps.mark?.('output');
    return outcome.exitCode ?? ExitCode.ok;
  } catch (error) {
    status?.clear();
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.ok;
      // Commander has already printed its one-line message; with --json, scripts get it as an envelope too.
      if (flags.json) io.stdout(jsonFailure(verb, new UsageError(error.message.replace(/^error: /, ''))));
      return ExitCode.usage;
    }
    const failure: ImgbasedError = toImgbasedError(error);
    if (flags.json) io.stdout(jsonFailure(verb, failure));
    io.stderr(`imgbase: ${failure.message}\n`);
    for (const hint of hintsAfterFailure(failure, { isRoot: io.isRoot, dryRun: Boolean(flags.dryRun) }))
      io.stderr(`imgbase: hint: ${hint}\n`);
    if (flags.debug && failure.stack) io.stderr(`${failure.stack}\n`);
    return exitCodeOf(failure.code);
  }
}

function reporter(io: CliIo, flags: GlobalFlags, status: StatusLine | undefined): (event: EngineEvent) => void {
  return (event) => {
    if (status && (event.type === 'step' || event.type === 'progress')) status.update(event);
    else if (event.type === 'warning') {
      status?.clear();
      io.stderr(`imgbase: warning: ${event.message}\n`);
    } else if (!flags.debug) return;
    else if (event.type === 'step' || event.type === 'undo')
      io.stderr(`[${event.type === 'undo' ? 'undo' : event.step}] ${event.message}\n`);
    else if (event.type === 'command') io.stderr(`${event.planned ? '(dry run) ' : ''}$ ${shellQuote(event.argv)}\n`);
    else if (event.type === 'command-done') io.stderr(`  exit ${event.exitCode} after ${event.durationMs} ms\n`);
  };
}

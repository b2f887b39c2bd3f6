import { Command } from 'commander';
import { addCommands, type CommandKit } from './commands.js';
import { exitCodesHelp } from './exit-codes.js';

export interface ProgramOutput {
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
}

export const PROGRAM_DESCRIPTION =
  'Image-based management of Linux hosts: read-only bases, writable layers, one boot entry each';

/**
 * The `imgbase` commander program: global options, every command and flag, the exit codes in --help.
 * One place, so that runCli and the generated man page and completions read the same program.
 */
export function buildProgram(version: string, output: ProgramOutput, act: CommandKit['act']): Command {
  const program = new Command('imgbase')
    .description(PROGRAM_DESCRIPTION)
    .option('--debug', 'show every step and command')
    .option('--json', 'answer with JSON (schema version 1)')
    .version(`imgbased-${version}`, '--version')
    .enablePositionalOptions(false)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput(output)
    .addHelpText('after', exitCodesHelp());

  const common = (command: Command, mutating: boolean, exclusive: readonly string[] = []) => {
    for (const option of command.options) {
      const name = option.attributeName();
      if (exclusive.includes(name)) option.conflicts(exclusive.filter((other) => other !== name));
    }
    command.option('--json', 'answer with JSON (schema version 1)').option('--debug', 'show every step and command');
    if (mutating) command.option('--dry-run', 'print the commands that would change the system, change nothing');
    return command.exitOverride().configureOutput(output).addHelpText('after', exitCodesHelp());
  };

  addCommands(program, { common, act });
  return program;
}

import { VERB_NAMES, VERBS } from '@imgbased/core';
import type { Argument, Command, Option } from 'commander';
import { buildProgram } from '../program.js';

/**
 * What the man page and the shell completions say about `imgbase`, read from the commander program
 * itself (commands, flags, placeholders, choices, defaults) and core's verb table (which verbs change
 * the system). Nothing here is written by hand, so the documentation follows every new verb or flag.
 */
export interface DocOption {
  /** `--volume-path` */
  readonly long: string;
  readonly short?: string | undefined;
  /** `<BASE|LAYER>` → `BASE|LAYER`; undefined for a flag. */
  readonly placeholder?: string | undefined;
  readonly description: string;
  readonly choices?: readonly string[] | undefined;
  readonly defaultValue?: string | undefined;
  /** What a completion offers for the value. */
  readonly values: ValueKind;
  /** Given more than once (e.g. boot --append). */
  readonly repeatable: boolean;
}

export interface DocArgument {
  readonly name: string;
  readonly required: boolean;
  readonly description: string;
  readonly values: ValueKind;
}

export interface DocCommand {
  readonly name: string;
  readonly description: string;
  readonly arguments: readonly DocArgument[];
  readonly options: readonly DocOption[];
  /** The verbs of core's table this command runs (`layer --add`, `layer --latest`…). */
  readonly verbs: readonly string[];
  /** Its verbs that change the system (root is needed, --dry-run is offered). */
  readonly changingVerbs: readonly string[];
}

export interface DocProgram {
  readonly name: string;
  readonly description: string;
  readonly globalOptions: readonly DocOption[];
  readonly commands: readonly DocCommand[];
}

/**
 * What a value can be completed from: names from the real layout (`imgbase layout --layers/--bases`),
 * a fixed list, files, or nothing (a new name, a size, a number).
 */
export type ValueKind =
  | { readonly kind: 'layers' | 'bases' | 'volumes' | 'files' | 'none' }
  | { readonly kind: 'choices'; readonly choices: readonly string[] };

/** Placeholder words (split at `|`) and what they are completed from. */
const PLACEHOLDER_VALUES: Readonly<Record<string, 'layers' | 'bases' | 'files'>> = {
  LAYER: 'layers',
  BASE: 'bases',
  IMAGE: 'files',
  FILE: 'files',
  PATH: 'files',
};

export function valueKindOf(placeholder: string | undefined, choices?: readonly string[]): ValueKind {
  if (choices && choices.length > 0) return { kind: 'choices', choices };
  const kinds = new Set((placeholder ?? '').split('|').map((word) => PLACEHOLDER_VALUES[word]));
  if (kinds.has('layers') && kinds.has('bases')) return { kind: 'volumes' };
  for (const kind of ['layers', 'bases', 'files'] as const) if (kinds.has(kind)) return { kind };
  return { kind: 'none' };
}

function optionOf(option: Option): DocOption {
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  const choices = option.argChoices;
  const defaultValue = option.defaultValue;
  return {
    long: option.long ?? option.flags,
    short: option.short,
    placeholder,
    description: option.description,
    choices,
    defaultValue:
      typeof defaultValue === 'string' || typeof defaultValue === 'number' ? String(defaultValue) : undefined,
    values: placeholder === undefined ? { kind: 'none' } : valueKindOf(placeholder, choices),
    repeatable: Array.isArray(defaultValue),
  };
}

function argumentOf(argument: Argument): DocArgument {
  return {
    name: argument.name(),
    required: argument.required,
    description: argument.description,
    values: valueKindOf(argument.name(), argument.argChoices),
  };
}

/** The verbs of the table a command runs: its name alone, or its name and one of its flags. */
function verbsOf(command: Command): string[] {
  const name = command.name();
  const flags = new Set(command.options.map((o) => o.long));
  return VERB_NAMES.filter((verb) => {
    const [head, flag] = verb.split(' ');
    return head === name && (flag === undefined || flags.has(flag));
  });
}

/** The documentation model of `imgbase` as this build defines it. */
export function describeProgram(version = '0'): DocProgram {
  const noOutput = { writeOut: () => undefined, writeErr: () => undefined };
  const program = buildProgram(version, noOutput, () => async () => undefined);
  const commands = program.commands.map((command): DocCommand => {
    const verbs = verbsOf(command);
    return {
      name: command.name(),
      description: command.description(),
      arguments: command.registeredArguments.map(argumentOf),
      options: command.options.filter((o) => !o.hidden).map(optionOf),
      verbs,
      changingVerbs: verbs.filter((verb) => VERBS[verb as keyof typeof VERBS].kind === 'change'),
    };
  });
  return {
    name: program.name(),
    description: program.description(),
    globalOptions: [
      ...program.options.filter((o) => !o.hidden).map(optionOf),
      { long: '--help', short: '-h', description: 'show the help', values: { kind: 'none' }, repeatable: false },
    ],
    commands,
  };
}

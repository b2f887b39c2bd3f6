// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are shell code, whose ${…} is the shell’s
import type { DocArgument, DocCommand, DocOption, DocProgram, ValueKind } from './model.js';

// Shell completions for imgbase, generated from the commander program (model.ts). Names of layers
// and bases come from the host at completion time: `imgbase layout --layers` / `--bases` (which need
// root, as LVM does; otherwise nothing is offered).

const NOTE = 'Generated from imgbased’s sources (apps/cli/src/docs): do not edit; run packaging/generate-docs.';
const GENERATED_BY = `# ${NOTE}`;

/** The bash name of what a value completes from: layers, bases, volumes, files, none or choices:A B C. */
function bashKind(values: ValueKind): string {
  return values.kind === 'choices' ? `choices:${values.choices.join(' ')}` : values.kind;
}

const takesValue = (o: DocOption) => o.placeholder !== undefined;
const names = (options: readonly DocOption[]) => options.flatMap((o) => (o.short ? [o.short, o.long] : [o.long]));

export function bashCompletion(program: DocProgram): string {
  const valueCases = program.commands.flatMap((c) =>
    c.options
      .filter(takesValue)
      .map((o) => `    ${c.name}:${o.long}) _imgbase_values '${bashKind(o.values)}'; return ;;`),
  );
  const optionCases = program.commands.map((c) => `      ${c.name}) words='${names(c.options).join(' ')}' ;;`);
  const argumentCases = program.commands
    .filter((c) => c.arguments.length > 0 && c.arguments[0]!.values.kind !== 'none')
    .map((c) => `    ${c.name}) _imgbase_values '${bashKind(c.arguments[0]!.values)}' ;;`);
  return `${[
    '# bash completion for imgbase(8)',
    GENERATED_BY,
    '',
    '# Names from the real layout: layers, bases or both (volumes).',
    '_imgbase_names() {',
    '  case $1 in',
    '    layers | bases) imgbase layout "--$1" 2>/dev/null ;;',
    '    volumes) imgbase layout --bases 2>/dev/null; imgbase layout --layers 2>/dev/null ;;',
    '  esac',
    '}',
    '',
    '# $1: what the value is completed from (layers, bases, volumes, files, choices:A B C or none).',
    '_imgbase_values() {',
    "  local IFS=$'\\n' words",
    '  case $1 in',
    '    layers | bases | volumes) words=$(_imgbase_names "$1") ;;',
    "    choices:*) words=${1#choices:} && words=${words// /$'\\n'} ;;",
    '    files) COMPREPLY=($(compgen -f -- "$cur")) && compopt -o filenames 2>/dev/null; return ;;',
    '    *) COMPREPLY=() && return ;;',
    '  esac',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    '',
    '_imgbase() {',
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} command= words i',
    '  # The command is the first word that is not an option (global options take no value).',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    if [[ ${COMP_WORDS[i]} != -* ]]; then',
    '      command=${COMP_WORDS[i]}',
    '      break',
    '    fi',
    '  done',
    '  case $command:$prev in',
    ...valueCases,
    '  esac',
    '  if [[ -z $command ]]; then',
    `    words='${program.commands.map((c) => c.name).join(' ')}'`,
    `    [[ $cur == -* ]] && words='${names(program.globalOptions).join(' ')}'`,
    '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '    return',
    '  fi',
    '  if [[ $cur == -* ]]; then',
    '    case $command in',
    ...optionCases,
    '    esac',
    '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '    return',
    '  fi',
    '  case $command in',
    ...argumentCases,
    '  esac',
    '}',
    'complete -F _imgbase imgbase',
  ].join('\n')}\n`;
}

/** zsh quoting inside an _arguments spec: brackets and colons escaped, in single quotes. */
function zshText(text: string): string {
  return text.replaceAll("'", "'\\''").replaceAll('[', '\\[').replaceAll(']', '\\]').replaceAll(':', '\\:');
}

function zshAction(values: ValueKind): string {
  if (values.kind === 'choices') return `(${values.choices.join(' ')})`;
  if (values.kind === 'files') return '_files';
  if (values.kind === 'none') return ' ';
  return `_imgbase_${values.kind}`;
}

/** `'*--append=[text]:ARG: '`: `*` when repeatable, `=` when it takes a value (next word or after =). */
function zshOption(option: DocOption): string {
  const repeat = option.repeatable ? '*' : '';
  const equals = takesValue(option) ? '=' : '';
  const value = takesValue(option) ? `:${zshText(option.placeholder!)}:${zshAction(option.values)}` : '';
  return `'${repeat}${option.long}${equals}[${zshText(option.description)}]${value}'`;
}

/** `'1:NAME:action'`, or `'1::NAME:action'` when the argument is optional. */
function zshArgument(argument: DocArgument, position: number): string {
  const optional = argument.required ? '' : ':';
  return `'${position}:${optional}${zshText(argument.name)}:${zshAction(argument.values)}'`;
}

function zshCommand(command: DocCommand): string {
  const specs = [
    ...command.options.map((o) => zshOption(o)),
    ...command.arguments.map((a, i) => zshArgument(a, i + 1)),
  ];
  return [
    `        ${command.name})`,
    `          _arguments -s \\`,
    ...specs.map((s) => `            ${s} \\`),
    '          ;;',
  ].join('\n');
}

export function zshCompletion(program: DocProgram): string {
  const globals = program.globalOptions.map((o) =>
    o.long === '--version' || o.long === '--help' ? `'(- *)${o.long}[${zshText(o.description)}]'` : zshOption(o),
  );
  const commands = program.commands.map((c) => `    '${c.name}:${zshText(c.description)}'`);
  return `${[
    '#compdef imgbase',
    GENERATED_BY,
    '',
    '_imgbase_layers() {',
    '  local -a names',
    '  names=(${(f)"$(imgbase layout --layers 2>/dev/null)"})',
    "  _describe -t layers 'layer' names",
    '}',
    '_imgbase_bases() {',
    '  local -a names',
    '  names=(${(f)"$(imgbase layout --bases 2>/dev/null)"})',
    "  _describe -t bases 'base' names",
    '}',
    '_imgbase_volumes() {',
    '  local -a names',
    '  names=(${(f)"$(imgbase layout --bases 2>/dev/null)"} ${(f)"$(imgbase layout --layers 2>/dev/null)"})',
    "  _describe -t volumes 'base or layer' names",
    '}',
    '',
    '_imgbase() {',
    '  local curcontext=$curcontext state line',
    '  local -a commands',
    '  commands=(',
    ...commands,
    '  )',
    '  _arguments -C \\',
    ...globals.map((g) => `    ${g} \\`),
    "    '1:command:->command' \\",
    "    '*::argument:->argument'",
    '  case $state in',
    "    command) _describe -t commands 'imgbase command' commands ;;",
    '    argument)',
    '      case $words[1] in',
    ...program.commands.map(zshCommand),
    '      esac',
    '      ;;',
    '  esac',
    '}',
    '',
    '_imgbase "$@"',
  ].join('\n')}\n`;
}

function fishText(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function fishValues(values: ValueKind): string {
  if (values.kind === 'choices') return ` -x -a ${fishText(values.choices.join(' '))}`;
  if (values.kind === 'files') return ' -r -F';
  if (values.kind === 'none') return ' -x';
  const lists = values.kind === 'volumes' ? ['bases', 'layers'] : [values.kind];
  return ` -x -a '(${lists.map((l) => `__imgbase_names ${l}`).join('; ')})'`;
}

function fishOption(condition: string, option: DocOption): string {
  const short = option.short ? ` -s ${option.short.slice(1)}` : '';
  const values = takesValue(option) ? fishValues(option.values) : '';
  return `complete -c imgbase -n ${condition}${short} -l ${option.long.slice(2)}${values} -d ${fishText(option.description)}`;
}

export function fishCompletion(program: DocProgram): string {
  const lines = [
    '# fish completion for imgbase(8)',
    GENERATED_BY,
    '',
    'function __imgbase_names --description "names of the real layout: layers or bases"',
    '    imgbase layout --$argv[1] 2>/dev/null',
    'end',
    '',
    'complete -c imgbase -f',
    ...program.globalOptions.map((o) => fishOption('__fish_use_subcommand', o)),
    ...program.commands.map(
      (c) => `complete -c imgbase -n __fish_use_subcommand -a ${c.name} -d ${fishText(c.description)}`,
    ),
  ];
  for (const command of program.commands) {
    const condition = fishText(`__fish_seen_subcommand_from ${command.name}`);
    lines.push('', ...command.options.map((o) => fishOption(condition, o)));
    const argument = command.arguments[0];
    if (argument && argument.values.kind !== 'none') {
      const values = fishValues(argument.values).replace(/^ -[xr]( -F)?/, '');
      lines.push(`complete -c imgbase -n ${condition}${values || ' -F'} -d ${fishText(argument.name)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Bad CLI input, as data: each case is an argv (run with `--json` added) and the error code and exit
 * code `imgbase` must answer with, changing nothing. The host is adminHost() running from Base-1-0+2:
 * layers Base-1-0+1 and Base-1-0+2 of base Base-1-0, a memory bootloader with one entry per layer.
 * Shared by the unit test beside it; issue 14's "Bad input, counted".
 */
export interface BadCliCase {
  readonly argv: readonly string[];
  readonly code: string;
  readonly exit: 1 | 2 | 3;
  /** Run as a user other than root. */
  readonly notRoot?: boolean;
}

const usage = (...argv: string[]): BadCliCase => ({ argv, code: 'E_USAGE', exit: 2 });
const failed = (code: string, ...argv: string[]): BadCliCase => ({ argv, code, exit: 1 });
const asUser = (...argv: string[]): BadCliCase => ({ argv, code: 'E_NOT_ROOT', exit: 1, notRoot: true });

const GARBAGE_NAMES = [
  'x;rm -rf /',
  '../../etc',
  '',
  ' ',
  'Base-1-0+1\n',
  '-',
  'Base 1 0',
  '$(reboot)',
  'a'.repeat(200),
  'Base-1-0+1/../root',
  '\u0000',
  'Bäse-1-0',
];

export const BAD_CLI_CASES: readonly BadCliCase[] = [
  // Parsing: unknown verbs and flags, missing operands, conflicting flags.
  usage('frobnicate'),
  usage('--frobnicate'),
  usage('layout', '--frobnicate'),
  usage('layout', '--bases', '--layers'),
  usage('layout', '--init', '--bases'),
  usage('layout', '--free-space', '--units', 'x'),
  usage('layout', '--free-space', '--units'),
  usage('layout', '--init'),
  usage('layout', '--from'),
  usage('base'),
  usage('base', '--add'),
  usage('base', '--add', 'Base-2-0'),
  usage('base', '--add', 'Base-2-0', '--remove', 'Base-1-0'),
  usage('base', '--latest', '--of-layer', 'Base-1-0+1'),
  usage('base', '--remove'),
  usage('base', '--of-layer'),
  usage('base', '--pin'),
  usage('base', '--pin', 'Base-1-0', '--unpin', 'Base-1-0'),
  usage('layer'),
  usage('layer', '--add', '--latest'),
  usage('layer', '--latest', '--current'),
  usage('layer', '--volume-path'),
  usage('layer', '--unknown-flag'),
  usage('boot'),
  usage('boot', '--set-default'),
  usage('boot', '--next'),
  usage('boot', '--list', '--get-default'),
  usage('boot', '--set-default', 'Base-1-0+1', '--next', 'Base-1-0+1'),
  usage('boot', '--append', 'quiet'),
  usage('boot', '--delete', 'quiet'),
  usage('boot', '--edit-kernel-args'),
  usage('boot', '--kernel-args'),
  usage('update'),
  usage('update', 'a.img', 'b.img'),
  usage('update', 'a.img', '--format', 'zip'),
  usage('update', 'a.img', '--keep', 'many'),
  usage('update', 'a.img', '--keep', '-1'),
  usage('update', 'a.img', '--keep', '1.5'),
  usage('update', 'a.img', '--nvr'),
  usage('rollback', '--to'),
  usage('rollback', 'Base-1-0+1'),
  usage('w', 'extra'),
  usage('volume'),
  usage('volume', '--create'),
  usage('volume', '--list', '--create', '/var/log'),
  usage('recover', '--list', '--yes'),
  usage('status', '--frobnicate'),
  usage('--json', '--debug', 'nope'),
  // Names that do not exist, or are not names at all.
  failed('E_LAYER_NOT_FOUND', 'base', '--of-layer', 'Base-1-0+9'),
  failed('E_BASE_NOT_FOUND', 'base', '--remove', 'Base-9-0'),
  failed('E_BASE_NOT_FOUND', 'base', '--pin', 'Base-9-0'),
  failed('E_BASE_NOT_FOUND', 'layer', '--add', 'Base-9-0'),
  failed('E_LAYER_NOT_FOUND', 'boot', '--set-default', 'Base-1-0+9'),
  failed('E_LAYER_NOT_FOUND', 'boot', '--next', 'Base-1-0+9'),
  failed('E_LAYER_NOT_FOUND', 'boot', '--kernel-args', 'Base-1-0+9'),
  failed('E_LAYER_NOT_FOUND', 'boot', '--edit-kernel-args', 'Base-1-0+9', '--append', 'quiet'),
  failed('E_BASE_EXISTS', 'base', '--add', 'Base-1-0', '--size', '1G'),
  ...GARBAGE_NAMES.map((name) => failed('E_NAME_INVALID', 'base', '--add', name, '--size', '1G')),
  ...GARBAGE_NAMES.map((name) => failed('E_NAME_INVALID', 'boot', '--set-default', name)),
  // Sizes.
  ...['0', '-1G', '1X', 'G', '1.5.5G', '999999999999999999999T', '1GG', '0x10', 'NaN', ''].map((size) =>
    failed('E_SIZE_INVALID', 'base', '--add', 'Base-2-0', '--size', size),
  ),
  // Not root: changing verbs are refused before anything runs.
  asUser('base', '--add', 'Base-2-0', '--size', '1G'),
  asUser('base', '--remove', 'Base-1-0'),
  asUser('layer', '--add'),
  asUser('boot', '--set-default', 'Base-1-0+1'),
  asUser('boot', '--edit-kernel-args', 'Base-1-0+1', '--append', 'quiet'),
  asUser('rollback'),
];

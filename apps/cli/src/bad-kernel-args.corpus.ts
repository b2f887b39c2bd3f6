import type { BadCliCase } from './bad-input.corpus.js';

/**
 * Bad kernel arguments given to `boot --edit-kernel-args LAYER --append/--delete ARG`: each is
 * refused with E_KERNEL_ARG_INVALID before the entry is touched (issue 14's "Bad input, counted").
 */
const BAD_ARGS = [
  '',
  ' ',
  'quiet splash',
  'a\tb',
  'a\nb',
  'console=ttyS0\r',
  'back\\slash',
  'x="unbalanced',
  'x=unbalanced"',
  '"',
  'x="a"b"',
  'init=/bin/sh\u0000',
  'caf\u00e9=1',
  '\u202Equiet',
  '\u0007bell',
  '\u007F',
  'x'.repeat(1025),
  `k=${'v'.repeat(1100)}`,
  'root=/dev/sda1',
  'root',
  'rd.lvm.lv=onn/Other',
  'rd.lvm.lv',
  'img.bootid=Base-1-0+1',
  'img.bootid',
  '$(reboot)',
  '`id`',
  'a;b',
  '{',
].filter((arg) => !/^[!#-[\]-~]+$/.test(arg) || ['root', 'rd.lvm.lv', 'img.bootid'].some((k) => arg.startsWith(k)));

export const BAD_KERNEL_ARGS: readonly BadCliCase[] = [
  ...BAD_ARGS.map((arg) => ({
    argv: ['boot', '--edit-kernel-args', 'Base-1-0+1', '--append', arg],
    code: 'E_KERNEL_ARG_INVALID',
    exit: 1 as const,
  })),
  ...BAD_ARGS.slice(0, 12).map((arg) => ({
    argv: ['boot', '--edit-kernel-args', 'Base-1-0+1', '--delete', arg],
    code: 'E_KERNEL_ARG_INVALID',
    exit: 1 as const,
  })),
];

// The crash table's plan: which verbs, from which starting disk, what a boot right after the worst
// kill may boot. Adding a changing verb is one row of CRASH_VERBS. Also the table's rendering (the
// golden disks are in crash-golden.ts).
import { type GoldenName, UPDATE_IMAGE } from './crash-golden.ts';

export interface CrashVerb {
  /** The row's label. */
  name: string;
  /** imgbase's arguments. */
  argv: string[];
  /** `fresh`: extlinux and a foreign entry booting onn/root, no layout; the others: see goldenScript. */
  golden: GoldenName;
  /** The command after a kill (default: the verb again), e.g. a cheaper `recover --yes`. */
  next?: string[];
  /**
   * Kill at these steps of the trace only (default: every step), each a kind of step the row must
   * cover: of the steps matching any of `match` (that name, the detail containing that text), the
   * `nth` (1-based, default 1; -1: the last). A selector that matches no step is a cell that did not
   * hold (crash-cases.mjs pickSteps).
   */
  sample?: { kind: string; match: { name: string; detail?: string }[]; nth?: number }[];
  /** What a boot after the worst step may boot: layers by img.bootid, `root` for the foreign entry. */
  boots: string[];
  /** Boot the disk after the worst step (default true; false when the verb changes nothing to boot). */
  bootProof?: boolean;
}

const EXTLINUX_RENAME = { name: 'boot.rename', detail: 'extlinux.conf' };

/** The rows; the golden disks (`laid-out`, `grub`, `original`) are described in crash-golden.ts. */
export const CRASH_VERBS: CrashVerb[] = [
  {
    name: 'layout --init',
    argv: ['layout', '--init', 'Base-1-0', '--from', 'onn/root'],
    golden: 'fresh',
    boots: ['root', 'Base-1-0+1'],
  },
  {
    name: 'base --add',
    argv: ['base', '--add', 'Base-3-0', '--size', '1G'],
    golden: 'laid-out',
    boots: ['Base-1-0+2'],
  },
  {
    name: 'base --remove',
    argv: ['base', '--remove', 'Base-1-0'],
    golden: 'laid-out',
    boots: ['Base-1-0+2', 'Base-2-0+1'],
  },
  { name: 'layer --add', argv: ['layer', '--add'], golden: 'laid-out', boots: ['Base-1-0+2', 'Base-2-0+2'] },
  {
    // The image: a tiny ext4 file system (the proof init, no kernel: the source entry's kernel boots
    // it), made once per VM. Two bases kept: GC removes Base-1-0, whose layer is the default. A whole
    // update is ~66 steps and 15-30 s in the VM, so the next command is `recover --yes` (what an admin
    // runs after a crash, not the whole update again), and only one step of each kind is killed: the
    // image copy into the new base (its e2image, or the step right after an untraced copy: the new
    // base's e2fsck), the carry-over (tar), the new entry's write (renamed in, its layer still
    // pending), GC (the removed base's entries renamed out; its first lvremove) and the switch to the
    // new layer (the last write that picks what boots: extlinux.conf, a trial's state or --once).
    name: 'update',
    argv: ['update', UPDATE_IMAGE, '--nvr', 'Base-3-0'],
    golden: 'laid-out',
    next: ['recover', '--yes'],
    sample: [
      { kind: 'copy', match: [{ name: 'run.e2image' }, { name: 'run.e2fsck', detail: '/dev/onn/Base-3-0' }] },
      { kind: 'persistence', match: [{ name: 'run.tar' }] },
      { kind: 'boot entry write', match: [EXTLINUX_RENAME] },
      { kind: 'gc: entries', match: [EXTLINUX_RENAME], nth: 3 },
      { kind: 'gc: volumes', match: [{ name: 'run.lvm.lvremove' }] },
      {
        kind: 'default switch',
        match: [EXTLINUX_RENAME, { name: 'boot.rename', detail: 'trial.json' }, { name: 'run.extlinux' }],
        nth: -1,
      },
    ],
    boots: ['Base-1-0+2', 'Base-2-0+1', 'Base-3-0+1'],
  },
  {
    name: 'rollback',
    argv: ['rollback', '--to', 'Base-2-0+1'],
    golden: 'laid-out',
    boots: ['Base-1-0+2', 'Base-2-0+1'],
  },
  // The boot configuration is not touched: no boot after the worst step (the table's invariants still
  // read it after every kill).
  {
    name: 'volume --create',
    argv: ['volume', '--create', '/var/log', '16M'],
    golden: 'laid-out',
    boots: [],
    bootProof: false,
  },
  {
    name: 'boot --set-default',
    argv: ['boot', '--set-default', 'Base-1-0+1'],
    golden: 'laid-out',
    boots: ['Base-1-0+2', 'Base-1-0+1'],
  },
  // extlinux has no one-shot boot, so on grub (imgbase's menu file, grubenv's next_entry): the boot
  // after the worst step boots the old default or the one-shot layer.
  {
    name: 'boot --next',
    argv: ['boot', '--next', 'Base-1-0+1'],
    golden: 'grub',
    boots: ['Base-1-0+2', 'Base-1-0+1'],
  },
  // On a host the original imgbased laid out (its separate volumes, grub with blscfg): neither
  // touches a boot entry, and the fixture's kernels are text, so no boot (the entries are still read
  // after every kill). volume --remove: the smallest of the original's volumes.
  {
    name: 'volume --remove',
    argv: ['volume', '--remove', '/var/log/audit'],
    golden: 'original',
    boots: [],
    bootProof: false,
  },
  { name: 'layout --adopt', argv: ['layout', '--adopt'], golden: 'original', boots: [], bootProof: false },
  {
    name: 'boot --edit-kernel-args',
    argv: ['boot', '--edit-kernel-args', 'Base-1-0+2', '--append', 'imgbased.crash=1'],
    golden: 'laid-out',
    boots: ['Base-1-0+2'],
  },
];

export interface CrashCell {
  n: number;
  name: string;
  /** The kind of step a sampled row's cell stands for. */
  kind?: string;
  detail: string;
  killed: boolean;
  killedStderr: string;
  bootableAtKill: string | null;
  /** What a reboot right after the kill would boot (a layer, or a foreign entry's label). */
  bootsAtKill?: string | null;
  damage: string[];
  nextExit: number;
  nextCode: string | null;
  nextStderr: string;
  after: string[];
  durationMs: number;
}

export interface CrashVerbResult {
  verb: string;
  full: { exit: number; stderr: string; steps: { n: number; name: string }[]; after: string[]; durationMs: number };
  cells: CrashCell[];
  worst: number | null;
  /** The row's own next command, when not the verb again. */
  next?: string[];
  /** The row's `boots`. */
  boots?: string[];
}

/**
 * Why a cell did not hold; undefined when it held. `boots`: the row's layers a reboot may boot (the
 * one before, or the one asked for): a reboot right after the kill must pick one of them.
 */
export function cellProblem(cell: CrashCell, boots: readonly string[] = []): string | undefined {
  if (!cell.killed) return `not killed at this step: ${cell.killedStderr}`;
  if (cell.bootableAtKill !== null) return `at the kill a reboot would fail: ${cell.bootableAtKill}`;
  if (boots.length > 0 && cell.bootsAtKill !== undefined && !boots.includes(cell.bootsAtKill ?? 'nothing'))
    return `at the kill a reboot would boot ${cell.bootsAtKill}, not ${boots.join(' or ')}`;
  if (cell.nextExit !== 0 && !(cell.nextCode ?? '').startsWith('E_')) return `next command: ${cell.nextStderr}`;
  if (
    cell.nextCode !== null &&
    !['E_LAYOUT_EXISTS', 'E_BASE_EXISTS', 'E_BASE_NOT_FOUND', 'E_VOLUME_EXISTS', 'E_VOLUME_NOT_FOUND'].includes(
      cell.nextCode,
    )
  )
    return `next command refused: ${cell.nextCode} ${cell.nextStderr}`;
  if (cell.after.length > 0) return cell.after.join('; ');
  return undefined;
}

/** The verb × step table, one line per cell, as Markdown. */
export function renderTable(results: CrashVerbResult[], boots: Record<string, string>): string {
  const lines = ['| verb | step | after | held | left at the kill | next command |', '|---|---|---|---|---|---|'];
  for (const r of results) {
    if (r.cells.length === 0) {
      lines.push(`| ${r.verb} | (no changing step: exit ${r.full.exit}) | | held | | |`);
      continue;
    }
    const notes = [
      ...(r.next === undefined ? [] : [`next: ${r.next.join(' ')}`]),
      ...(r.cells.length < r.full.steps.length ? [`${r.cells.length} of ${r.full.steps.length} steps`] : []),
    ];
    const label = notes.length === 0 ? r.verb : `${r.verb} (${notes.join('; ')})`;
    for (const c of r.cells) {
      const problem = cellProblem(c, r.boots);
      const worst = c.n === r.worst ? ' (worst)' : '';
      lines.push(
        `| ${label} | ${c.n}${worst}${c.kind === undefined ? '' : ` (${c.kind})`} | ${c.name} ${shorten(c.detail)} | ${problem === undefined ? 'held' : `NOT HELD: ${oneLine(problem)}`} | ${c.damage.length} | ${c.nextCode ?? c.nextExit} |`,
      );
    }
  }
  lines.push('', '| verb | boot after the worst step |', '|---|---|');
  for (const [verb, booted] of Object.entries(boots)) lines.push(`| ${verb} | ${booted} |`);
  return `${lines.join('\n')}\n`;
}

/** A table cell's text: no line breaks, no column bars. */
function oneLine(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '/')
    .trim();
}

function shorten(detail: string): string {
  const text = detail.replace(/\|/g, '/');
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}

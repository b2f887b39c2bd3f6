import type { BootChange, BootList, ChangeResult, KernelArgsChange } from '@imgbased/core';
import { bootStateNote, shellQuote } from './output.js';

/** What a verb printed: its `--json` data and the text a person reads. */
export interface Outcome {
  readonly data: unknown;
  readonly human: string;
  /** The process's exit code when the verb has its own (check: 1 degraded, 2 failed); default 0. */
  readonly exitCode?: number | undefined;
}

/** A changing verb's result: what was recovered, made and removed (or, in a dry run, the plan). */
export function changed(result: ChangeResult): Outcome {
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
    const layer = result.created.at(-1);
    if (result.boot?.trial && layer)
      out.push(`${layer} boots next as a trial: it becomes the default once its checks pass`);
  }
  return { data: result, human: lines(out) };
}

/** `boot --set-default` and `boot --next`. */
export function bootChanged(change: BootChange, layer: string, once: boolean): Outcome {
  const what = once ? 'at the next boot only' : 'by default';
  const human = change.dryRun
    ? `Dry run: nothing was changed. ${layer} (${change.entry}) would boot ${what}\n`
    : `${layer} boots ${what} (${change.bootloader}${change.atomic ? '' : ', not written atomically on this file system'})\n`;
  return { data: change, human };
}

export function kernelArgsChanged(change: KernelArgsChange, layer: string): Outcome {
  const human = change.dryRun
    ? `Dry run: nothing was changed. ${layer} would boot with: ${change.options.join(' ')}\n`
    : `${layer} boots with: ${change.options.join(' ')}${change.atomic ? '' : ' (not written atomically on this file system)'}\n`;
  return { data: change, human };
}

/** `boot --list`: `*` marks the default, `>` the one-shot; nothing when no bootloader is present. */
export function bootListed(list: BootList): Outcome {
  if (list.bootloader === null) return { data: list, human: '' };
  const out = list.entries.map(
    (e) =>
      `${e.isDefault ? '*' : ' '}${e.isNext ? '>' : ' '} ${e.layer ?? `(${e.id})`}  ${e.title}${e.triesLeft === null ? '' : `  [${e.triesLeft} tries left]`}${bootStateNote(e.bootState)}`,
  );
  return { data: list, human: lines(out) };
}

/** A one-line answer (a name, a path): the data as is, the line for people. */
export function oneLine(data: unknown, line: string): Outcome {
  return { data, human: `${line}\n` };
}

export function lines(items: readonly string[]): string {
  return items.length === 0 ? '' : `${items.join('\n')}\n`;
}

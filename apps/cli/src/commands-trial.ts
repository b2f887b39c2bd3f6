import {
  type BootDefaultChange,
  type TrialChange,
  type TrialCheck,
  type TrialStatus,
  UsageError,
} from '@imgbased/core';
import type { Command } from 'commander';
import type { VerbContext } from './commands.js';
import type { Outcome } from './human.js';

/** The trial-boot flags of `imgbase boot` (docs/trial-boots.md). */
export function addTrialOptions(command: Command): Command {
  return command
    .option(
      '--trial [LAYER]',
      'boot LAYER as a trial: it becomes the default only once its checks pass (with --set-default LAYER: the same)',
    )
    .option('--trial-status', 'the running trial and each layer’s boot state (trial, good, failed)')
    .option('--mark-good [LAYER]', 'mark the running trial good: it becomes the default')
    .option('--mark-bad <LAYER>', 'mark the running trial bad: the last good layer stays the default')
    .option('--reason <TEXT>', 'with --mark-bad: why (recorded with the verdict)')
    .option('--check-trial', 'check this boot’s trial and mark it (run by imgbased-boot-check.service)');
}

/** The flags of which at most one may be given (`--trial` alone goes with `--set-default`, checked below). */
export const TRIAL_FLAGS = ['trialStatus', 'markGood', 'markBad', 'checkTrial'] as const;

/** Runs the trial flag given, if any. `--check-trial` exits 0 unless a reboot is wanted (exit code 3). */
export async function runTrial(o: Record<string, unknown>, context: VerbContext): Promise<Outcome | undefined> {
  if (o.reason !== undefined && o.markBad === undefined) throw new UsageError('--reason goes with --mark-bad LAYER');
  if (o.trial !== undefined) {
    const others = ['list', 'getDefault', 'next', 'kernelArgs', 'editKernelArgs', ...TRIAL_FLAGS];
    const with_ = others.find((flag) => o[flag] !== undefined && o[flag] !== false);
    if (with_ !== undefined) throw new UsageError('--trial goes alone (--trial LAYER) or with --set-default LAYER');
    if (o.setDefault !== undefined) {
      if (typeof o.trial === 'string') throw new UsageError('--set-default LAYER --trial takes no second layer');
      return trialDefaultChanged(
        await context.run('boot --set-default', { layer: o.setDefault as string, trial: true }),
      );
    }
    if (typeof o.trial !== 'string') throw new UsageError('--trial needs a layer: --trial LAYER');
    return trialChanged(await context.run('boot --trial', { layer: o.trial }));
  }
  if (o.markGood !== undefined) {
    const layer = typeof o.markGood === 'string' ? o.markGood : undefined;
    return trialChanged(await context.run('boot --mark-good', layer === undefined ? {} : { layer }));
  }
  if (o.markBad !== undefined) {
    const args = { layer: o.markBad as string, ...(o.reason === undefined ? {} : { reason: o.reason as string }) };
    return trialChanged(await context.run('boot --mark-bad', args));
  }
  if (o.trialStatus) return trialListed(await context.run('boot --trial-status', {}));
  if (o.checkTrial) return trialChecked(await context.run('boot --check-trial', {}));
  return undefined;
}

function trialChanged(change: TrialChange): Outcome {
  const what = { trial: 'boots next as a trial', good: 'is marked good: it boots by default', failed: 'is marked bad' };
  const human = change.dryRun
    ? `Dry run: nothing was changed. ${change.layer} ${what[change.state].replace(/^is /, 'would be ').replace(/^boots/, 'would boot')}\n`
    : `${change.layer} ${what[change.state]}${change.reason ? ` (${change.reason})` : ''} (${change.bootloader})\n`;
  return { data: change, human };
}

function trialDefaultChanged(change: BootDefaultChange): Outcome {
  const human = change.dryRun
    ? `Dry run: nothing was changed. ${change.layer} would boot next as a trial\n`
    : `${change.layer} boots next as a trial: it becomes the default once its checks pass (${change.bootloader})\n`;
  return { data: change, human };
}

function trialListed(status: TrialStatus): Outcome {
  const rows = status.layers.map((l) => {
    if (l.state === 'trial') return `${l.layer}  trial, ${l.attemptsLeft} boot(s) left, since ${l.at}`;
    if (l.state === 'good') return `${l.layer}  good since ${l.at}`;
    return `${l.layer}  failed at ${l.at}: ${l.reason}`;
  });
  const head = status.trial
    ? `Trial: ${status.trial.layer} (falls back to ${status.trial.good}; ${status.protocol})`
    : `No trial running${status.protocol ? ` (${status.protocol})` : ''}`;
  return { data: status, human: `${[head, ...rows].join('\n')}\n` };
}

function trialChecked(check: TrialCheck): Outcome {
  const lines = check.checks.map(
    (c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.required ? '' : ' (wanted)'}${c.detail ? `: ${c.detail}` : ''}`,
  );
  const verdict = `${check.layer ?? 'no trial'}: ${check.result}${check.reason ? ` (${check.reason})` : ''}${check.reboot ? '; rebooting' : ''}`;
  return { data: check, human: `${[verdict, ...lines].join('\n')}\n`, exitCode: check.reboot ? 3 : 0 };
}

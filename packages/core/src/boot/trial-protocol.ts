/**
 * Trial boots as one abstract machine that every bootloader's protocol maps onto (docs/trial-boots.md).
 * Pure: plans are lists of durable write steps; the engine carries them out in order, and a crash may
 * cut a plan after any step. The order of each plan is chosen so that every cut leaves a host whose next
 * boot picks the trial or the last good layer, and a trial that never proves itself is booted at most
 * `tries` times.
 */

/** How the bootloader counts a trial's boots by itself, before the kernel starts. */
export type TrialProtocol =
  /** grub: a counter in grubenv that imgbased's grub script decrements and saves. */
  | 'grub-counter'
  /** systemd-boot: `+LEFT` in the entry's file name, renamed by systemd-boot. */
  | 'sd-boot-counter'
  /** extlinux: ldlinux's boot-once (ADV), cleared by ldlinux before it boots; one boot per arm. */
  | 'extlinux-once';

/** What the bootloader boots by itself: its lasting default and an armed trial with boots left. */
export interface BootloaderTrialState {
  readonly defaultLayer: string;
  /** Counters stay at 0 (grub, systemd-boot) until disarmed; the boot-once disappears when used. */
  readonly armed: { readonly layer: string; readonly left: number } | undefined;
}

export interface LayerVerdict {
  readonly state: 'good' | 'failed';
  readonly at: string;
  readonly reason?: string | undefined;
}

export interface RunningTrial {
  readonly layer: string;
  /** The last good layer: the default while the trial runs, and GC keeps it and its base. */
  readonly good: string;
  readonly tries: number;
  /** Arms used (extlinux counts here; the counter protocols count in the bootloader). */
  readonly attempts: number;
  readonly started: string;
}

/** `/boot/imgbased/trial.json`. */
export interface TrialRecord {
  readonly trial: RunningTrial | undefined;
  readonly layers: Readonly<Record<string, LayerVerdict>>;
}

export interface TrialMachine {
  readonly boot: BootloaderTrialState;
  readonly record: TrialRecord;
}

/**
 * One durable write. `default-and-disarm` is grub's single grubenv rewrite; for systemd-boot a rename
 * and a loader.conf rewrite whose cut between boots the same layer as the whole step.
 */
export type TrialStep =
  | { readonly kind: 'record'; readonly record: TrialRecord }
  | { readonly kind: 'arm'; readonly layer: string; readonly left: number }
  | { readonly kind: 'disarm' }
  | { readonly kind: 'default'; readonly layer: string }
  | { readonly kind: 'default-and-disarm'; readonly layer: string };

export const EMPTY_TRIAL_RECORD: TrialRecord = { trial: undefined, layers: {} };

export function applyTrialStep(machine: TrialMachine, step: TrialStep): TrialMachine {
  switch (step.kind) {
    case 'record':
      return { ...machine, record: step.record };
    case 'arm':
      return { ...machine, boot: { ...machine.boot, armed: { layer: step.layer, left: step.left } } };
    case 'disarm':
      return { ...machine, boot: { ...machine.boot, armed: undefined } };
    case 'default':
      return { ...machine, boot: { ...machine.boot, defaultLayer: step.layer } };
    case 'default-and-disarm':
      return { ...machine, boot: { defaultLayer: step.layer, armed: undefined } };
  }
}

export function applyTrialSteps(machine: TrialMachine, steps: readonly TrialStep[]): TrialMachine {
  return steps.reduce(applyTrialStep, machine);
}

/** What the bootloader does at power-on, before any kernel runs: the layer it boots and its new state. */
export function bootOnce(
  boot: BootloaderTrialState,
  protocol: TrialProtocol,
): { readonly booted: string; readonly boot: BootloaderTrialState } {
  const armed = boot.armed;
  if (armed === undefined || armed.left <= 0) return { booted: boot.defaultLayer, boot };
  const left = armed.left - 1;
  const after = protocol === 'extlinux-once' || left < 0 ? undefined : { layer: armed.layer, left };
  return { booted: armed.layer, boot: { ...boot, armed: after } };
}

function withVerdict(record: TrialRecord, layer: string, verdict: LayerVerdict): TrialRecord {
  return { trial: undefined, layers: { ...record.layers, [layer]: verdict } };
}

/**
 * Starts a trial of `layer`: the record first (so an arm is never unrecorded), then the arm. The
 * lasting default stays the last good layer. extlinux arms one boot at a time and counts arms here.
 */
export function planStartTrial(
  machine: TrialMachine,
  protocol: TrialProtocol,
  layer: string,
  tries: number,
  now: string,
): TrialStep[] {
  const once = protocol === 'extlinux-once';
  const trial: RunningTrial = {
    layer,
    good: machine.boot.defaultLayer,
    tries,
    attempts: once ? 1 : 0,
    started: now,
  };
  const layers = { ...machine.record.layers };
  delete layers[layer];
  return [
    { kind: 'record', record: { trial, layers } },
    { kind: 'arm', layer, left: once ? 1 : tries },
  ];
}

/** The trial proved itself: the bootloader makes it the default first, the record says good last. */
export function planMarkGood(machine: TrialMachine, protocol: TrialProtocol, now: string): TrialStep[] {
  const trial = machine.record.trial;
  if (trial === undefined) return [];
  const record = withVerdict(machine.record, trial.layer, { state: 'good', at: now });
  // grub: one grubenv rewrite. systemd-boot: the trial's file renamed to `<id>.conf` (blessed, it is
  // what the pattern default boots from then on), then `default <id>`: both cuts boot the trial.
  // Naming the trial in `default` first would not do: its counted file name does not match that id.
  const bootloader: TrialStep[] =
    protocol === 'extlinux-once'
      ? [{ kind: 'default', layer: trial.layer }]
      : [{ kind: 'default-and-disarm', layer: trial.layer }];
  return [...bootloader, { kind: 'record', record }];
}

/**
 * The trial failed: the reason is recorded first (so it survives any cut), then the arm goes. The
 * default already names the last good layer; it is written again in case the admin changed it.
 */
export function planMarkBad(machine: TrialMachine, reason: string, now: string): TrialStep[] {
  const trial = machine.record.trial;
  if (trial === undefined) return [];
  const record = withVerdict(machine.record, trial.layer, { state: 'failed', at: now, reason });
  const steps: TrialStep[] = [{ kind: 'record', record }];
  if (machine.boot.armed !== undefined) steps.push({ kind: 'disarm' });
  if (machine.boot.defaultLayer !== trial.good) steps.push({ kind: 'default', layer: trial.good });
  return steps;
}

/** What the check service does on a boot, given which layer booted. */
export type TrialDecision =
  /** Nothing to do: no trial, or the trial still has boots of its own. */
  | { readonly action: 'none' }
  /** The trial layer booted: run the checks, then planMarkGood or planMarkBad. */
  | { readonly action: 'check' }
  /** Finish writes a cut left behind (or re-arm / give up); reboot afterwards when `reboot`. */
  | { readonly action: 'repair'; readonly why: string; readonly steps: TrialStep[]; readonly reboot: boolean };

/** Reconciles the record with the bootloader on every boot (crash windows, used-up counters). */
export function decideAfterBoot(
  machine: TrialMachine,
  protocol: TrialProtocol,
  booted: string,
  now: string,
): TrialDecision {
  const { boot, record } = machine;
  const trial = record.trial;
  if (trial === undefined) {
    // A mark-bad or give-up cut after its record: the bootloader may still be armed.
    if (boot.armed !== undefined && record.layers[boot.armed.layer]?.state === 'failed') {
      return {
        action: 'repair',
        why: 'disarm a failed trial',
        steps: [{ kind: 'disarm' }],
        reboot: booted === boot.armed.layer,
      };
    }
    return { action: 'none' };
  }
  if (booted === trial.layer) {
    if (boot.defaultLayer === trial.layer && boot.armed === undefined) {
      const steps = [{ kind: 'record', record: withVerdict(record, trial.layer, { state: 'good', at: now }) } as const];
      return { action: 'repair', why: 'finish marking the trial good', steps, reboot: false };
    }
    if (boot.defaultLayer === trial.layer) {
      return {
        action: 'repair',
        why: 'finish marking the trial good',
        steps: planMarkGood(machine, protocol, now),
        reboot: false,
      };
    }
    return { action: 'check' };
  }
  const armedForTrial = boot.armed?.layer === trial.layer ? boot.armed : undefined;
  if (armedForTrial !== undefined && armedForTrial.left > 0) return { action: 'none' };
  if (protocol === 'extlinux-once' && armedForTrial === undefined && trial.attempts < trial.tries) {
    const again: RunningTrial = { ...trial, attempts: trial.attempts + 1 };
    return {
      action: 'repair',
      why: `the trial did not reach its check: boot ${again.attempts} of ${trial.tries}`,
      steps: [
        { kind: 'record', record: { ...record, trial: again } },
        { kind: 'arm', layer: trial.layer, left: 1 },
      ],
      reboot: true,
    };
  }
  const reason =
    armedForTrial === undefined && protocol !== 'extlinux-once'
      ? 'the trial was never armed (interrupted while starting)'
      : `the trial did not reach its check in ${trial.tries} boots`;
  return { action: 'repair', why: reason, steps: planMarkBad(machine, reason, now), reboot: false };
}

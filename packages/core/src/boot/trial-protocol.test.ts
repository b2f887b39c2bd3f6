// The trial protocol of each bootloader as a state machine: a host is updated (a trial starts), then
// boots ten times; the trial layer behaves well, fails a required check, or panics before userspace.
// Every write plan is cut after each of its steps (a crash, then the next boot), one cut per run, and
// every run must boot only the trial or the last good layer, boot a bad trial at most `tries` times,
// and settle where the issue says.
import { describe, expect, it } from 'vitest';
import {
  applyTrialSteps,
  bootOnce,
  decideAfterBoot,
  EMPTY_TRIAL_RECORD,
  planMarkBad,
  planMarkGood,
  planStartTrial,
  type TrialMachine,
  type TrialProtocol,
  type TrialStep,
} from './trial-protocol.js';

const GOOD = 'B-1-0+1';
const TRIAL = 'B-2-0+1';
const TRIES = 3;
const NOW = '2026-12-01T00:00:00.000Z';
const PROTOCOLS: TrialProtocol[] = ['grub-counter', 'sd-boot-counter', 'extlinux-once'];
type Behaviour = 'good' | 'bad' | 'panic';

interface Cut {
  readonly plan: number;
  readonly step: number;
}

interface Run {
  readonly booted: string[];
  /** Boots of the trial layer in which its userspace ran (the check service saw it). */
  readonly userspaceRuns: number;
  readonly machine: TrialMachine;
  readonly cutHit: boolean;
}

function simulate(protocol: TrialProtocol, behaviour: Behaviour, cut?: Cut, boots = 10): Run {
  let machine: TrialMachine = { boot: { defaultLayer: GOOD, armed: undefined }, record: EMPTY_TRIAL_RECORD };
  let plans = 0;
  let cutHit = false;
  /** Carries out a plan; false when the cut fell in it (the host then crashed: the next boot follows). */
  const execute = (steps: readonly TrialStep[]): boolean => {
    const index = plans++;
    if (cut !== undefined && cut.plan === index && cut.step < steps.length) {
      cutHit = true;
      machine = applyTrialSteps(machine, steps.slice(0, cut.step));
      return false;
    }
    machine = applyTrialSteps(machine, steps);
    return true;
  };
  execute(planStartTrial(machine, protocol, TRIAL, TRIES, NOW));
  const booted: string[] = [];
  let userspaceRuns = 0;
  for (let n = 0; n < boots; n++) {
    const power = bootOnce(machine.boot, protocol);
    machine = { ...machine, boot: power.boot };
    booted.push(power.booted);
    if (power.booted === TRIAL && behaviour === 'panic') continue;
    if (power.booted === TRIAL) userspaceRuns++;
    const decision = decideAfterBoot(machine, protocol, power.booted, NOW);
    if (decision.action === 'repair') execute(decision.steps);
    if (decision.action === 'check') {
      execute(
        behaviour === 'good'
          ? planMarkGood(machine, protocol, NOW)
          : planMarkBad(machine, 'required check 50-app exited 1', NOW),
      );
    }
  }
  return { booted, userspaceRuns, machine, cutHit };
}

/** Every cut that falls in some plan of the run: plan index × step index. */
function cuts(protocol: TrialProtocol, behaviour: Behaviour): Cut[] {
  const found: Cut[] = [];
  for (let plan = 0; plan < 12; plan++) {
    for (let step = 0; step < 6; step++) {
      if (simulate(protocol, behaviour, { plan, step }).cutHit) found.push({ plan, step });
    }
  }
  return found;
}

function expectSettled(run: Run, protocol: TrialProtocol): void {
  const last = run.booted.at(-1) as string;
  const again = bootOnce(run.machine.boot, protocol);
  expect(again.booted).toBe(last);
  expect(decideAfterBoot(run.machine, protocol, again.booted, NOW)).toEqual({ action: 'none' });
}

describe.each(PROTOCOLS)('trial protocol %s', (protocol) => {
  it('a good trial: the first boot is the trial, it is marked good, and every later boot lands in it', () => {
    const run = simulate(protocol, 'good');
    expect(run.booted).toEqual(Array(10).fill(TRIAL));
    expect(run.machine.boot).toEqual({ defaultLayer: TRIAL, armed: undefined });
    expect(run.machine.record.layers[TRIAL]?.state).toBe('good');
    expect(run.machine.record.trial).toBeUndefined();
    expectSettled(run, protocol);
  });

  it('a trial failing a required check: back in the last good layer, the reason recorded', () => {
    const run = simulate(protocol, 'bad');
    expect(run.booted.slice(0, 2)).toEqual([TRIAL, GOOD]);
    expect(run.machine.boot).toEqual({ defaultLayer: GOOD, armed: undefined });
    expect(run.machine.record.layers[TRIAL]).toMatchObject({
      state: 'failed',
      reason: 'required check 50-app exited 1',
    });
    expectSettled(run, protocol);
  });

  it('a trial that panics: booted exactly `tries` times, never its userspace, then the good layer for good', () => {
    const run = simulate(protocol, 'panic');
    expect(run.booted.filter((layer) => layer === TRIAL)).toHaveLength(TRIES);
    expect(run.userspaceRuns).toBe(0);
    expect(run.booted.at(-1)).toBe(GOOD);
    expect(run.machine.boot.defaultLayer).toBe(GOOD);
    expect(run.machine.record.layers[TRIAL]?.reason).toBe(`the trial did not reach its check in ${TRIES} boots`);
    expectSettled(run, protocol);
  });

  for (const behaviour of ['good', 'bad', 'panic'] as const) {
    it(`a ${behaviour} trial cut at every write step: only the two layers boot, and it settles`, () => {
      const all = cuts(protocol, behaviour);
      expect(all.length).toBeGreaterThanOrEqual(3);
      for (const cut of all) {
        const run = simulate(protocol, behaviour, cut);
        const where = `${protocol} ${behaviour} cut in plan ${cut.plan} before step ${cut.step}`;
        expect(
          run.booted.every((layer) => layer === GOOD || layer === TRIAL),
          where,
        ).toBe(true);
        expect(run.machine.record.trial, where).toBeUndefined();
        expect(run.machine.boot.armed, where).toBeUndefined();
        const verdict = run.machine.record.layers[TRIAL];
        if (verdict === undefined) {
          // Cut before the first write: the update never started a trial.
          expect(cut, where).toEqual({ plan: 0, step: 0 });
          expect(
            run.booted.every((layer) => layer === GOOD),
            where,
          ).toBe(true);
        } else if (behaviour === 'good' && verdict.state === 'good') {
          expect(run.machine.boot.defaultLayer, where).toBe(TRIAL);
        } else {
          // A good trial may only fail when the cut fell before it was ever armed.
          if (behaviour === 'good') expect(verdict.reason, where).toMatch(/never armed/);
          expect(run.machine.boot.defaultLayer, where).toBe(GOOD);
          expect(verdict.state, where).toBe('failed');
          expect(run.booted.filter((layer) => layer === TRIAL).length, where).toBeLessThanOrEqual(TRIES);
        }
        if (behaviour === 'panic') expect(run.userspaceRuns, where).toBe(0);
        expectSettled(run, protocol);
      }
    });
  }
});

describe('trial plans, their order', () => {
  const armed: TrialMachine = {
    boot: { defaultLayer: GOOD, armed: { layer: TRIAL, left: 2 } },
    record: {
      trial: { layer: TRIAL, good: GOOD, tries: 3, attempts: 0, started: NOW },
      layers: { [GOOD]: { state: 'good', at: NOW } },
    },
  };

  it('start: the record before the arm; extlinux arms one boot and counts it in the record', () => {
    const idle: TrialMachine = { ...armed, boot: { defaultLayer: GOOD, armed: undefined }, record: EMPTY_TRIAL_RECORD };
    expect(planStartTrial(idle, 'grub-counter', TRIAL, 3, NOW).map((s) => s.kind)).toEqual(['record', 'arm']);
    const once = planStartTrial(idle, 'extlinux-once', TRIAL, 3, NOW);
    expect(once[1]).toEqual({ kind: 'arm', layer: TRIAL, left: 1 });
    expect(once[0]).toMatchObject({ record: { trial: { attempts: 1, good: GOOD } } });
  });

  it('mark good: grub in one grubenv rewrite, systemd-boot in one step (rename, then default), the record last', () => {
    expect(planMarkGood(armed, 'grub-counter', NOW).map((s) => s.kind)).toEqual(['default-and-disarm', 'record']);
    expect(planMarkGood(armed, 'sd-boot-counter', NOW).map((s) => s.kind)).toEqual(['default-and-disarm', 'record']);
    expect(planMarkGood(armed, 'extlinux-once', NOW).map((s) => s.kind)).toEqual(['default', 'record']);
  });

  it('mark bad: the reason first, then the arm goes; the layers verdicts keep the good one', () => {
    const steps = planMarkBad(armed, 'why', NOW);
    expect(steps.map((s) => s.kind)).toEqual(['record', 'disarm']);
    expect(steps[0]).toMatchObject({ record: { trial: undefined, layers: { [GOOD]: { state: 'good' } } } });
  });

  it('no trial: nothing to mark, nothing to do', () => {
    const idle: TrialMachine = { boot: { defaultLayer: GOOD, armed: undefined }, record: EMPTY_TRIAL_RECORD };
    expect(planMarkGood(idle, 'grub-counter', NOW)).toEqual([]);
    expect(planMarkBad(idle, 'why', NOW)).toEqual([]);
    expect(decideAfterBoot(idle, 'grub-counter', GOOD, NOW)).toEqual({ action: 'none' });
  });
});

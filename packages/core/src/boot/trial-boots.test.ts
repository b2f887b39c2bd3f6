import { describe, expect, it } from 'vitest';
import { MemoryTrialBootloader } from '../testing/memory-trial-bootloader.js';
import { TrialBoots } from './trial-boots.js';

const GOOD = 'B-1-0+1';
const TRIAL = 'B-2-0+1';
const now = () => new Date('2026-12-01T00:00:00Z');
const passes = async () => ({ ok: true }) as const;
const fails = async () => ({ ok: false, reason: 'required check 50-app exited 1' }) as const;

function host(
  protocol: 'grub-counter' | 'sd-boot-counter' | 'extlinux-once' = 'grub-counter',
  onFailure: 'reboot' | 'stay' = 'reboot',
) {
  const bootloader = new MemoryTrialBootloader(protocol, GOOD);
  return { bootloader, trials: new TrialBoots(bootloader, { tries: 3, onFailure, now }) };
}

describe('TrialBoots', () => {
  it('start, boot, check passes: the trial becomes the default and the record says good', async () => {
    const { bootloader, trials } = host();
    await trials.start(TRIAL);
    expect(bootloader.writes).toEqual(['record', `arm ${TRIAL} 3`]);
    expect(bootloader.defaultLayer).toBe(GOOD);
    const booted = bootloader.powerOn();
    expect(booted).toBe(TRIAL);
    expect(await trials.check(booted, passes)).toEqual({ layer: TRIAL, result: 'good', reboot: false });
    expect(bootloader.defaultLayer).toBe(TRIAL);
    expect(bootloader.record.layers[TRIAL]?.state).toBe('good');
    expect(bootloader.powerOn()).toBe(TRIAL);
  });

  it('a failed check: the reason recorded, the good layer boots next, reboot per on_failure', async () => {
    for (const onFailure of ['reboot', 'stay'] as const) {
      const { bootloader, trials } = host('sd-boot-counter', onFailure);
      await trials.start(TRIAL);
      const outcome = await trials.check(bootloader.powerOn(), fails);
      expect(outcome).toMatchObject({ result: 'failed', reason: 'required check 50-app exited 1' });
      expect(outcome.reboot).toBe(onFailure === 'reboot');
      expect(bootloader.powerOn()).toBe(GOOD);
      expect(await trials.check(GOOD, passes)).toEqual({ layer: undefined, result: 'no-trial', reboot: false });
    }
  });

  it('extlinux: a trial that never reaches its check is re-armed from the good layer, then failed', async () => {
    const { bootloader, trials } = host('extlinux-once');
    await trials.start(TRIAL);
    const outcomes = [];
    for (let boot = 0; boot < 8; boot++) {
      const booted = bootloader.powerOn();
      if (booted === TRIAL) continue; // it panics: its userspace never runs
      outcomes.push(await trials.check(booted, passes));
    }
    expect(outcomes.slice(0, 2).map((o) => o.reboot)).toEqual([true, true]);
    expect(outcomes[2]).toMatchObject({ result: 'failed', reason: 'the trial did not reach its check in 3 boots' });
    expect(outcomes.at(-1)).toMatchObject({ result: 'no-trial' });
    expect(bootloader.record.layers[TRIAL]?.state).toBe('failed');
  });

  it('a mark-good write cut half way is finished by the next check, in the trial layer', async () => {
    const { bootloader, trials } = host('sd-boot-counter');
    await trials.start(TRIAL);
    bootloader.powerOn();
    bootloader.crashAt = bootloader.writes.length + 2; // after the default, before the disarm
    await expect(trials.markGood(TRIAL)).rejects.toThrow('simulated crash');
    bootloader.crashAt = Number.POSITIVE_INFINITY;
    const booted = bootloader.powerOn();
    expect(booted).toBe(TRIAL);
    expect(await trials.check(booted, fails)).toMatchObject({ result: 'repaired', reboot: false });
    expect(bootloader.record.layers[TRIAL]?.state).toBe('good');
    expect(bootloader.armed).toBeUndefined();
  });

  it('refuses, changing nothing: a second trial, trying the default, marking with no trial or another layer', async () => {
    const { bootloader, trials } = host();
    await expect(trials.start(GOOD)).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(trials.markGood(undefined)).rejects.toThrow(/no trial is running/);
    await trials.start(TRIAL);
    const writes = bootloader.writes.length;
    await expect(trials.start('B-3-0+1')).rejects.toThrow(/A trial of B-2-0\+1 is running/);
    await expect(trials.markBad(GOOD, 'x')).rejects.toThrow(/the running trial is B-2-0\+1/);
    expect(bootloader.writes).toHaveLength(writes);
  });
});

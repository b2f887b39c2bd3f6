import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import type { TrialCheckRun } from '../contracts/trial-checks.js';
import {
  FixedHost,
  installedLayerEntry,
  MemoryBootloader,
  MemoryLock,
  MemoryTrialBootloader,
  MemoryVolumeManager,
  RecordingFilesystem,
} from '../testing/index.js';
import { ImageEngine } from './engine.js';

/** The in-memory bootloader with trial boots, its trial state kept by layer. */
class TrialMemoryBootloader extends MemoryBootloader {
  readonly trials = new MemoryTrialBootloader('grub-counter', 'Base-1-0+1');
  trial() {
    return this.trials;
  }
}

let volumes: MemoryVolumeManager;
let host: FixedHost;
let boot: TrialMemoryBootloader;
let checks: TrialCheckRun[];
let reboots: number;
let health: 'ok' | 'degraded' | 'failed';

function engine(): ImageEngine {
  const checker = { run: async () => checks };
  const power = { reboot: async () => void reboots++ };
  const made = new ImageEngine(
    volumes,
    new RecordingFilesystem(),
    host,
    new MemoryLock(),
    boot,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    checker,
    power,
  );
  // `imgbase check` is its own verb's business (admin tests): here only its verdict matters.
  made.check = async () => ({ health }) as Awaited<ReturnType<ImageEngine['check']>>;
  return made;
}

function runOn(layer: string): void {
  host.root = { source: `/dev/onn/${layer}`, device: volumes.find(layer)?.device };
}

beforeEach(async () => {
  volumes = MemoryVolumeManager.thinpHost();
  host = new FixedHost();
  boot = new TrialMemoryBootloader();
  boot.present = false;
  await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  boot.present = true;
  boot.entries = [installedLayerEntry('Base-1-0+1')];
  boot.defaultId = entryIdForLayer('Base-1-0+1');
  await engine().addLayer({ from: 'Base-1-0+1' });
  checks = [{ name: 'required.d/50-app', required: true, ok: true }];
  reboots = 0;
  health = 'ok';
});

describe('trial verbs', () => {
  it('boot --trial: the layer is on trial with its boots left; the good layer stays the default', async () => {
    expect(await engine().bootTrial('Base-1-0+2')).toEqual({
      dryRun: false,
      bootloader: 'memory',
      layer: 'Base-1-0+2',
      state: 'trial',
      reason: null,
    });
    const status = await engine().trialStatus();
    expect(status).toMatchObject({
      protocol: 'grub-counter',
      trial: { layer: 'Base-1-0+2', good: 'Base-1-0+1', tries: 3, attemptsLeft: 3 },
      layers: [{ layer: 'Base-1-0+2', state: 'trial', attemptsLeft: 3, reason: null }],
    });
    expect(boot.trials.defaultLayer).toBe('Base-1-0+1');
    const listed = await engine().bootList();
    expect(listed.entries.map((e) => [e.layer, e.bootState?.state ?? null, e.bootState?.attemptsLeft ?? null])).toEqual(
      [
        ['Base-1-0+1', null, null],
        ['Base-1-0+2', 'trial', 3],
      ],
    );
  });

  it('boot --check-trial in the trial layer: checks pass, marked good; fail, marked bad and reboot', async () => {
    await engine().bootTrial('Base-1-0+2');
    runOn(boot.trials.powerOn());
    const good = await engine().checkTrial();
    expect(good).toMatchObject({ layer: 'Base-1-0+2', booted: 'Base-1-0+2', result: 'good', reboot: false });
    expect(good.checks).toEqual([
      { name: 'imgbase check', required: true, ok: true, detail: 'ok' },
      { name: 'required.d/50-app', required: true, ok: true, detail: null },
    ]);
    expect(boot.trials.defaultLayer).toBe('Base-1-0+2');

    await engine().addLayer({ from: 'Base-1-0+2' });
    await engine().bootTrial('Base-1-0+3');
    checks = [{ name: 'required.d/50-app', required: true, ok: false, detail: 'exit status 1' }];
    runOn(boot.trials.powerOn());
    const bad = await engine().checkTrial();
    expect(bad).toMatchObject({ result: 'failed', reason: 'required check required.d/50-app failed: exit status 1' });
    expect(reboots).toBe(1);
    expect(boot.trials.powerOn()).toBe('Base-1-0+2');
    const status = await engine().trialStatus();
    expect(status.layers.map((l) => [l.layer, l.state])).toEqual([
      ['Base-1-0+2', 'good'],
      ['Base-1-0+3', 'failed'],
    ]);
  });

  it('a wanted check that fails does not fail the trial', async () => {
    checks = [{ name: 'wanted.d/10-ntp', required: false, ok: false }];
    await engine().bootTrial('Base-1-0+2');
    runOn(boot.trials.powerOn());
    expect(await engine().checkTrial()).toMatchObject({ result: 'good' });
  });

  it('a host that imgbase check judges failed fails the trial; degraded passes', async () => {
    health = 'degraded';
    await engine().bootTrial('Base-1-0+2');
    runOn(boot.trials.powerOn());
    expect(await engine().checkTrial()).toMatchObject({ result: 'good' });
    await engine().addLayer({ from: 'Base-1-0+2' });
    await engine().bootTrial('Base-1-0+3');
    health = 'failed';
    runOn(boot.trials.powerOn());
    expect(await engine().checkTrial()).toMatchObject({
      result: 'failed',
      reason: 'required check imgbase check failed: failed',
    });
  });

  it('marks by hand; refuses unknown layers, a second trial, and a bootloader without trials', async () => {
    await expect(engine().bootTrial('Base-1-0+9')).rejects.toMatchObject({ code: 'E_LAYER_NOT_FOUND' });
    await engine().bootTrial('Base-1-0+2');
    await expect(engine().bootTrial('Base-1-0+1')).rejects.toMatchObject({ code: 'E_USAGE' });
    expect(await engine().markBad('Base-1-0+2', undefined)).toMatchObject({
      state: 'failed',
      reason: 'marked bad by hand (boot --mark-bad)',
    });
    await engine().bootTrial('Base-1-0+2');
    expect(await engine().markGood(undefined)).toMatchObject({ layer: 'Base-1-0+2', state: 'good' });
    const plain = new MemoryBootloader();
    const without = new ImageEngine(volumes, new RecordingFilesystem(), host, new MemoryLock(), plain);
    await expect(without.bootTrial('Base-1-0+2')).rejects.toMatchObject({ code: 'E_BOOT_UNSUPPORTED' });
  });

  it('boot --set-default ends a running trial: marked good when it names the trial, bad otherwise', async () => {
    await engine().bootTrial('Base-1-0+2');
    await engine().setDefaultBoot('Base-1-0+1');
    expect(boot.trials.record.layers['Base-1-0+2']).toMatchObject({
      state: 'failed',
      reason: 'ended by boot --set-default Base-1-0+1',
    });
    expect(boot.trials.armed).toBeUndefined();
    await engine().bootTrial('Base-1-0+2');
    await engine().setDefaultBoot('Base-1-0+2');
    expect(boot.trials.record.layers['Base-1-0+2']?.state).toBe('good');
    expect(boot.trials.powerOn()).toBe('Base-1-0+2');
  });

  it('a dry run writes nothing', async () => {
    const done = await engine().bootTrial('Base-1-0+2', { dryRun: true });
    expect(done).toMatchObject({ dryRun: true, state: 'trial' });
    expect(boot.trials.writes).toEqual([]);
  });
});

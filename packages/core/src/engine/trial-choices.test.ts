import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
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

/** The in-memory bootloader with trial boots (grub's counter), its trial state kept by layer. */
class TrialMemoryBootloader extends MemoryBootloader {
  readonly trials = new MemoryTrialBootloader('grub-counter', 'Base-1-0+1');
  trial() {
    return this.trials;
  }
}

let volumes: MemoryVolumeManager;
let host: FixedHost;
let boot: TrialMemoryBootloader;

const engine = (bootloader: MemoryBootloader = boot) =>
  new ImageEngine(volumes, new RecordingFilesystem(), host, new MemoryLock(), bootloader);

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
  await engine().setDefaultBoot('Base-1-0+1');
});

/** Each layer of the layout with its boot state, as `layout --json` shows it. */
async function layoutStates(e = engine()) {
  const layout = await e.layout();
  return layout.bases.flatMap((b) => b.layers.map((l) => [l.name, l.bootState]));
}

describe('layout shows each layer’s boot state', () => {
  it('none recorded: null; a trial with its boots left; good and failed with time and reason', async () => {
    expect(await layoutStates()).toEqual([
      ['Base-1-0+1', null],
      ['Base-1-0+2', null],
    ]);
    await engine().bootTrial('Base-1-0+2');
    const [, trial] = await layoutStates();
    expect(trial).toEqual(['Base-1-0+2', { state: 'trial', at: expect.any(String), attemptsLeft: 3, reason: null }]);
    await engine().markBad('Base-1-0+2', 'required check 50-ping exited 1');
    await engine().bootTrial('Base-1-0+2');
    await engine().markGood('Base-1-0+2');
    await engine().addLayer({ from: 'Base-1-0+2', trial: true });
    await engine().markBad('Base-1-0+3', 'required check 50-ping exited 1');
    const states = await layoutStates();
    expect(states.map(([name, state]) => [name, state && (state as { state: string }).state])).toEqual([
      ['Base-1-0+1', null],
      ['Base-1-0+2', 'good'],
      ['Base-1-0+3', 'failed'],
    ]);
    expect(states[2]![1]).toMatchObject({ reason: 'required check 50-ping exited 1', attemptsLeft: null });
  });

  it('a bootloader without trial boots: every layer null', async () => {
    expect((await layoutStates(engine(new MemoryBootloader()))).map(([, state]) => state)).toEqual([null, null]);
  });
});

describe('--trial on layer --add and boot --set-default', () => {
  it('layer --add --trial: the new layer boots next as a trial; the default stays', async () => {
    const change = await engine().addLayer({ from: 'Base-1-0+2', trial: true });
    expect(change.boot).toMatchObject({ added: [entryIdForLayer('Base-1-0+3')], trial: true });
    expect(boot.defaultId).toBe(entryIdForLayer('Base-1-0+1'));
    expect(boot.trials.record.trial).toMatchObject({ layer: 'Base-1-0+3', good: 'Base-1-0+1' });
    expect(boot.trials.powerOn()).toBe('Base-1-0+3');
  });

  it('layer --add without --trial makes the new layer the default, as before', async () => {
    const change = await engine().addLayer({ from: 'Base-1-0+2' });
    expect(change.boot?.trial).toBeUndefined();
    expect(boot.defaultId).toBe(entryIdForLayer('Base-1-0+3'));
    expect(boot.trials.writes).toEqual([]);
  });

  it('boot --set-default --trial: the layer is tried, the default stays', async () => {
    const change = await engine().setDefaultBootAsTrial('Base-1-0+2');
    expect(change).toEqual({
      dryRun: false,
      bootloader: 'memory',
      layer: 'Base-1-0+2',
      entry: entryIdForLayer('Base-1-0+2'),
      atomic: true,
      trial: true,
    });
    expect(boot.defaultId).toBe(entryIdForLayer('Base-1-0+1'));
    expect(boot.trials.record.trial).toMatchObject({ layer: 'Base-1-0+2', good: 'Base-1-0+1', tries: 3 });
    expect((await engine().setDefaultBoot('Base-1-0+2')).trial).toBe(false);
  });

  it('a bootloader without trial boots: --trial is E_BOOT_UNSUPPORTED and changes nothing', async () => {
    const plain = new MemoryBootloader();
    plain.entries = [...boot.entries];
    plain.defaultId = boot.defaultId;
    const before = volumes.volumes.map((v) => v.name);
    await expect(engine(plain).addLayer({ from: 'Base-1-0+2', trial: true })).rejects.toMatchObject({
      code: 'E_BOOT_UNSUPPORTED',
    });
    await expect(engine(plain).addLayer({ trial: true }, { dryRun: true })).rejects.toMatchObject({
      code: 'E_BOOT_UNSUPPORTED',
    });
    await expect(engine(plain).setDefaultBootAsTrial('Base-1-0+2')).rejects.toMatchObject({
      code: 'E_BOOT_UNSUPPORTED',
    });
    expect(volumes.volumes.map((v) => v.name)).toEqual(before);
    expect(plain.entries.map((e) => e.layer)).toEqual(['Base-1-0+1', 'Base-1-0+2']);
    expect(plain.defaultId).toBe(entryIdForLayer('Base-1-0+1'));
  });

  it('layer --add --trial while a trial runs is refused before any change', async () => {
    await engine().bootTrial('Base-1-0+2');
    const before = volumes.volumes.map((v) => v.name);
    await expect(engine().addLayer({ from: 'Base-1-0+2', trial: true })).rejects.toMatchObject({ code: 'E_USAGE' });
    expect(volumes.volumes.map((v) => v.name)).toEqual(before);
  });
});

describe('rollback during a trial', () => {
  it('without --to: ends the trial (marked bad); the last good layer stays the default', async () => {
    await engine().bootTrial('Base-1-0+2');
    const rolled = await engine().rollback();
    expect(rolled).toMatchObject({ layer: 'Base-1-0+1', previous: 'Base-1-0+2' });
    expect(boot.trials.record.trial).toBeUndefined();
    expect(boot.trials.record.layers['Base-1-0+2']).toMatchObject({
      state: 'failed',
      reason: 'ended by rollback Base-1-0+1',
    });
    expect(boot.defaultId).toBe(entryIdForLayer('Base-1-0+1'));
    expect(boot.trials.powerOn()).toBe('Base-1-0+1');
  });

  it('--to the trial layer: marks it good, it becomes the default', async () => {
    await engine().bootTrial('Base-1-0+2');
    await engine().rollback({ to: 'Base-1-0+2' });
    expect(boot.trials.record.layers['Base-1-0+2']?.state).toBe('good');
    expect(boot.defaultId).toBe(entryIdForLayer('Base-1-0+2'));
    expect(boot.trials.powerOn()).toBe('Base-1-0+2');
  });

  it('a dry run says what it would do and ends nothing', async () => {
    await engine().bootTrial('Base-1-0+2');
    expect(await engine().rollback({}, { dryRun: true })).toMatchObject({ dryRun: true, layer: 'Base-1-0+1' });
    expect(boot.trials.record.trial).toMatchObject({ layer: 'Base-1-0+2' });
  });
});

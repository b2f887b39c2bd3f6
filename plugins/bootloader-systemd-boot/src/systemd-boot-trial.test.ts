// systemd-boot's trial protocol as a state machine on files: the plugin writes, `powerOn` plays
// systemd-boot 252 (testing/power-on.ts), core's TrialBoots runs the plans and the check service's
// reconcile. Every write step of every plan is cut once (a crash, then the next boot): each run must
// boot only the trial or the last good layer, a trial that never proves itself at most `tries` times,
// and settle where docs/trial-boots.md says.
import { bootFiles, type DesiredBootEntry, entryIdForLayer, ManagedBootloader, TrialBoots } from '@imgbased/core';
import { MemoryBootFiles, ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import systemdBootPlugin from './index.js';
import { systemdBootSettings } from './settings.js';
import { powerOn } from './testing/power-on.js';

const ESP = '/efi';
const ENTRIES = `${ESP}/loader/entries`;
const GOOD = 'B-1-0+1';
/** Newer than the good layer, older than the trial: without sort keys the pattern would pick it second. */
const OTHER = 'B-1-0+2';
const TRIAL = 'B-2-0+1';
const TRIES = 3;
const id = entryIdForLayer;
type Behaviour = 'good' | 'bad' | 'panic';

function layer(name: string): DesiredBootEntry {
  return {
    layer: name,
    title: name,
    version: '6.1.0',
    options: [`img.bootid=${name}`],
    files: { kernel: '/src/vmlinuz' },
  };
}

async function host() {
  const files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz', 'KERNEL');
  files.files.set(`${ESP}/loader/loader.conf`, 'timeout 3\n');
  const settings = systemdBootSettings.parse({ esp_dir: ESP });
  const runner = new ScriptedRunner({ strict: true });
  const plugin = systemdBootPlugin.create({ runner, files: bootFiles(files), bootDir: '/boot', settings });
  const managed = new ManagedBootloader(plugin, files, { filesystemType: async () => 'vfat' });
  await managed.writeEntries([layer(GOOD), layer(OTHER), layer(TRIAL)]);
  await managed.setDefault(id(GOOD));
  const bootloader = managed.trial();
  if (bootloader === undefined) throw new Error('systemd-boot declares trial boots');
  return { files, managed, bootloader, trials: new TrialBoots(bootloader, { tries: TRIES, onFailure: 'reboot' }) };
}

const names = (files: MemoryBootFiles) =>
  [...files.files.keys()].filter((p) => p.startsWith(`${ENTRIES}/`)).map((p) => p.slice(ENTRIES.length + 1));
const loaderConf = (files: MemoryBootFiles) => files.files.get(`${ESP}/loader/loader.conf`);
const sortKeys = (files: MemoryBootFiles) =>
  names(files).flatMap((n) => {
    const key = /^sort-key (.*)$/m.exec(files.files.get(`${ENTRIES}/${n}`) ?? '')?.[1];
    return key === undefined ? [] : [`${n}: ${key}`];
  });

/** Starts a trial, then ten boots with the check service after each; `cut` crashes the n-th write. */
async function simulate(behaviour: Behaviour, cut?: number) {
  const h = await host();
  h.files.crashAt = cut === undefined ? Number.POSITIVE_INFINITY : h.files.steps + cut;
  let cutHit = false;
  const run = async (plan: () => Promise<unknown>) => {
    try {
      await plan();
    } catch (error) {
      if (h.files.steps < h.files.crashAt) throw error;
      cutHit = true;
      h.files.crashAt = Number.POSITIVE_INFINITY;
    }
  };
  await run(() => h.trials.start(TRIAL));
  const booted: (string | undefined)[] = [];
  let userspaceRuns = 0;
  for (let n = 0; n < 10; n++) {
    const layerBooted = powerOn(h.files, ESP);
    booted.push(layerBooted);
    if (layerBooted === TRIAL && behaviour === 'panic') continue;
    if (layerBooted === TRIAL) userspaceRuns++;
    await run(() =>
      h.trials.check(layerBooted ?? '', async () =>
        behaviour === 'good' ? { ok: true } : { ok: false, reason: 'required check 50-app exited 1' },
      ),
    );
  }
  return { ...h, booted, userspaceRuns, cutHit };
}

describe('systemd-boot trial boots', () => {
  it('arms with a counted file name, sort keys and a pattern default; systemd-boot counts down, then boots the good layer', async () => {
    const { files, bootloader, trials, managed } = await host();
    await trials.start(TRIAL);
    expect(names(files)).toContain(`${id(TRIAL)}+3.conf`);
    expect(sortKeys(files)).toEqual([`${id(GOOD)}.conf: imgbased-1-good`, `${id(TRIAL)}+3.conf: imgbased-0-trial`]);
    expect(loaderConf(files)).toBe('timeout 3\ndefault imgbased-*.conf\n');
    expect(await bootloader.trialState()).toEqual({ defaultLayer: GOOD, armed: { layer: TRIAL, left: 3 } });
    expect((await managed.state()).defaultId).toBe(id(GOOD));
    const boots = [1, 2, 3, 4, 5].map(() => powerOn(files, ESP));
    expect(boots).toEqual([TRIAL, TRIAL, TRIAL, GOOD, GOOD]);
    expect(names(files)).toContain(`${id(TRIAL)}+0-3.conf`);
    expect(await bootloader.trialState()).toEqual({ defaultLayer: GOOD, armed: { layer: TRIAL, left: 0 } });
  });

  it('an update while the trial runs keeps its counter and sort keys', async () => {
    const { files, managed, bootloader, trials } = await host();
    await trials.start(TRIAL);
    powerOn(files, ESP);
    await managed.writeEntries([layer(GOOD), layer(OTHER), layer(TRIAL), layer('B-3-0+1')]);
    expect(names(files)).toContain(`${id(TRIAL)}+2-1.conf`);
    expect(sortKeys(files)).toHaveLength(2);
    expect(await bootloader.trialState()).toEqual({ defaultLayer: GOOD, armed: { layer: TRIAL, left: 2 } });
    expect([powerOn(files, ESP), powerOn(files, ESP), powerOn(files, ESP)]).toEqual([TRIAL, TRIAL, GOOD]);
  });

  it('mark good, even with no tries left: the plain file name, named by the default, sort keys gone', async () => {
    const { files, bootloader, trials } = await host();
    await trials.start(TRIAL);
    for (let n = 0; n < 4; n++) powerOn(files, ESP);
    await trials.markGood(TRIAL);
    expect(names(files)).toContain(`${id(TRIAL)}.conf`);
    expect(loaderConf(files)).toBe(`timeout 3\ndefault ${id(TRIAL)}.conf\n`);
    expect(sortKeys(files)).toEqual([]);
    expect(await bootloader.trialState()).toEqual({ defaultLayer: TRIAL, armed: undefined });
    expect(powerOn(files, ESP)).toBe(TRIAL);
  });

  it('mark bad: spent (`+0-DONE`, what bootctl shows as bad), the default names the good layer again', async () => {
    const { files, bootloader, trials } = await host();
    await trials.start(TRIAL);
    expect(powerOn(files, ESP)).toBe(TRIAL);
    await trials.markBad(TRIAL, 'required check 50-app exited 1');
    expect(names(files)).toContain(`${id(TRIAL)}+0-1.conf`);
    expect(loaderConf(files)).toBe(`timeout 3\ndefault ${id(GOOD)}.conf\n`);
    expect(sortKeys(files)).toEqual([]);
    expect(await bootloader.trialState()).toEqual({ defaultLayer: GOOD, armed: undefined });
    expect(powerOn(files, ESP)).toBe(GOOD);
  });

  it('a failed trial chosen by boot --set-default after all: its spent counter goes, so the default matches it', async () => {
    const { files, managed, trials } = await host();
    await trials.start(TRIAL);
    for (let n = 0; n < 4; n++) powerOn(files, ESP);
    await trials.check(GOOD, async () => ({ ok: true }));
    expect(names(files)).toContain(`${id(TRIAL)}+0-3.conf`);
    await managed.setDefault(id(TRIAL));
    expect(names(files)).toContain(`${id(TRIAL)}.conf`);
    expect(loaderConf(files)).toBe(`timeout 3\ndefault ${id(TRIAL)}.conf\n`);
    expect(powerOn(files, ESP)).toBe(TRIAL);
  });

  it('a trial ended for a counted layer (boot_counting_tries): the default names it counter and all', async () => {
    const { files, bootloader, trials } = await host();
    const plain = `${ENTRIES}/${id(OTHER)}.conf`;
    files.files.set(`${ENTRIES}/${id(OTHER)}+3.conf`, files.files.get(plain) as string);
    files.files.delete(plain);
    // Ranked first by its sort key: what boots should the default match nothing.
    files.files.set(`${ENTRIES}/rescue.conf`, 'title Rescue\nlinux /src/vmlinuz\nsort-key aaa\n');
    await trials.start(TRIAL);
    await bootloader.disarm(OTHER);
    expect(loaderConf(files)).toBe(`timeout 3\ndefault ${id(OTHER)}[.+][0-9c]*\n`);
    expect(await bootloader.trialState()).toEqual({ defaultLayer: OTHER, armed: undefined });
    expect([powerOn(files, ESP), powerOn(files, ESP)]).toEqual([OTHER, OTHER]);
  });

  it('systemd-bless-boot blessing the trial (plain name) does not make it good: the check still decides', async () => {
    const { files, bootloader, trials } = await host();
    await trials.start(TRIAL);
    expect(powerOn(files, ESP)).toBe(TRIAL);
    const counted = `${ENTRIES}/${id(TRIAL)}+2-1.conf`;
    files.files.set(`${ENTRIES}/${id(TRIAL)}.conf`, files.files.get(counted) as string);
    files.files.delete(counted);
    expect(await bootloader.trialState()).toEqual({ defaultLayer: GOOD, armed: { layer: TRIAL, left: 1 } });
    const outcome = await trials.check(TRIAL, async () => ({ ok: false, reason: 'required check 50-app exited 1' }));
    expect(outcome).toMatchObject({ result: 'failed', reboot: true });
    expect(names(files)).toContain(`${id(TRIAL)}+0.conf`);
    expect(powerOn(files, ESP)).toBe(GOOD);
  });

  it('a good trial: booted once, marked good, and every later boot lands in it', async () => {
    const run = await simulate('good');
    expect(run.booted).toEqual(Array(10).fill(TRIAL));
    expect(await run.bootloader.trialState()).toEqual({ defaultLayer: TRIAL, armed: undefined });
  });

  it('a trial that panics: booted `tries` times, then the good layer for good, the reason recorded', async () => {
    const run = await simulate('panic');
    expect(run.booted).toEqual([TRIAL, TRIAL, TRIAL, ...Array(7).fill(GOOD)]);
    const record = await run.bootloader.readRecord();
    expect(record.layers[TRIAL]?.reason).toBe(`the trial did not reach its check in ${TRIES} boots`);
  });

  for (const behaviour of ['good', 'bad', 'panic'] as const) {
    it(`a ${behaviour} trial cut at every write step: only the two layers boot, and it settles`, async () => {
      let cuts = 0;
      for (let cut = 1; ; cut++) {
        const run = await simulate(behaviour, cut);
        if (!run.cutHit) break;
        cuts++;
        const where = `${behaviour} trial, write ${cut} cut`;
        expect(
          run.booted.every((b) => b === GOOD || b === TRIAL),
          `${where}: ${run.booted}`,
        ).toBe(true);
        const record = await run.bootloader.readRecord();
        const state = await run.bootloader.trialState();
        expect(record.trial, where).toBeUndefined();
        expect(state.armed, where).toBeUndefined();
        const verdict = record.layers[TRIAL];
        if (verdict === undefined) {
          expect(
            run.booted.every((b) => b === GOOD),
            where,
          ).toBe(true);
        } else if (verdict.state === 'good') {
          expect(behaviour, where).toBe('good');
          expect(state.defaultLayer, where).toBe(TRIAL);
          expect(run.booted.slice(-3), where).toEqual([TRIAL, TRIAL, TRIAL]);
        } else {
          if (behaviour === 'good') expect(verdict.reason, where).toMatch(/never armed/);
          expect(state.defaultLayer, where).toBe(GOOD);
          expect(run.booted.filter((b) => b === TRIAL).length, where).toBeLessThanOrEqual(TRIES);
          expect(run.booted.slice(-3), where).toEqual([GOOD, GOOD, GOOD]);
        }
        if (behaviour === 'panic') expect(run.userspaceRuns, where).toBe(0);
      }
      expect(cuts).toBeGreaterThanOrEqual(8);
    });
  }
});

import { bootFiles, type DesiredBootEntry, ManagedBootloader, TrialBoots } from '@imgbased/core';
import { MemoryBootFiles, ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { bootOnceLabel, buildAdv, bytesFromOd, parseAdv } from './extlinux-adv.js';
import extlinuxPlugin from './index.js';

const DIR = '/boot/extlinux';
const LDLINUX = `${DIR}/ldlinux.sys`;

function od(bytes: Uint8Array): string {
  return `${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}\n`;
}

describe('the ADV', () => {
  it('reads the boot-once label of the first valid copy, and nothing from a torn or missing ADV', () => {
    const armed = buildAdv(new Map([[1, 'imgbased-B-2-0-layer1']]));
    expect(bootOnceLabel(armed)).toBe('imgbased-B-2-0-layer1');
    expect(bootOnceLabel(buildAdv(new Map()))).toBeUndefined();
    expect(bootOnceLabel(new Uint8Array(1024))).toBeUndefined();
    // A torn first copy: the second one holds.
    const torn = Uint8Array.from(armed);
    torn[20] = (torn[20] ?? 0) ^ 0xff;
    expect(bootOnceLabel(torn)).toBe('imgbased-B-2-0-layer1');
    expect(parseAdv(torn)?.size).toBe(1);
    expect(bytesFromOd(od(armed))).toEqual(armed);
  });
});

/** A host with extlinux installed: `extlinux --once` and `--clear-once` change the ADV that `od` reads. */
function extlinuxHost() {
  const files = new MemoryBootFiles();
  files.files.set(LDLINUX, 'ldlinux');
  let adv = buildAdv(new Map());
  const runner = new ScriptedRunner()
    .on(['stat'], { stdout: '66560\n' })
    .on(['od'], (spec) => {
      expect(spec.argv).toEqual(['od', '-An', '-v', '-tx1', '-j', String(66560 - 1024), '-N', '1024', LDLINUX]);
      return { stdout: od(adv) };
    })
    .on(['extlinux'], (spec) => {
      const once = spec.argv.find((a) => a.startsWith('--once='));
      adv = buildAdv(once === undefined ? new Map() : new Map([[1, once.slice('--once='.length)]]));
      return { stdout: '' };
    });
  const services = { runner, files: bootFiles(files), bootDir: '/boot', settings: undefined };
  const managed = new ManagedBootloader(extlinuxPlugin.create(services), files, { filesystemType: async () => 'ext4' });
  return { files, runner, managed, powerOn: () => (adv = buildAdv(new Map())) };
}

function layer(name: string): DesiredBootEntry {
  return {
    layer: name,
    title: name,
    version: '6.1',
    options: [`img.bootid=${name}`],
    files: { kernel: '/src/vmlinuz' },
  };
}

describe('extlinux trial boots', () => {
  it('arms with extlinux --once, reads it back from the ADV, keeps DEFAULT on the good layer, marks good', async () => {
    const host = extlinuxHost();
    host.files.files.set('/src/vmlinuz', 'K');
    await host.managed.writeEntries([layer('B-1-0+1'), layer('B-2-0+1')]);
    await host.managed.setDefault((await host.managed.state()).entries[0]?.id as string);
    const bootloader = host.managed.trial();
    if (bootloader === undefined) throw new Error('extlinux declares trial boots');
    const trials = new TrialBoots(bootloader, { tries: 3, onFailure: 'reboot' });
    await trials.start('B-2-0+1');
    const label = (await host.managed.state()).entries.find((e) => e.layer === 'B-2-0+1')?.id as string;
    expect(host.runner.commandLines).toContain(`extlinux --once=${label} ${DIR}`);
    expect(await bootloader.trialState()).toEqual({ defaultLayer: 'B-1-0+1', armed: { layer: 'B-2-0+1', left: 1 } });
    host.powerOn(); // ldlinux clears the boot-once and boots the trial
    expect(await trials.check('B-2-0+1', async () => ({ ok: true }))).toMatchObject({ result: 'good' });
    expect(host.files.files.get(`${DIR}/extlinux.conf`)).toContain(`DEFAULT ${label}`);
    expect(JSON.parse(host.files.files.get('/boot/imgbased/trial.json') ?? '{}').layers['B-2-0+1'].state).toBe('good');
  });

  it('without ldlinux.sys nothing is armed (no ADV to read)', async () => {
    const host = extlinuxHost();
    host.files.files.delete(LDLINUX);
    expect((await host.managed.trial()?.trialState())?.armed).toBeUndefined();
    expect(host.runner.commandLines.filter((l) => l.startsWith('od'))).toEqual([]);
  });
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are grub script, not JavaScript templates
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bootFiles, type DesiredBootEntry, entryIdForLayer, ManagedBootloader, TrialBoots } from '@imgbased/core';
import { MemoryBootFiles } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import grubBlsPlugin from './index.js';
import { grubBlsSettings } from './settings.js';
import { environmentBlock, fakeEditenv } from './testing/fake-editenv.js';

const ENV = '/boot/grub/grubenv';
const SNIPPET = new URL('../grub.d/42_imgbased', import.meta.url).pathname;
const id = entryIdForLayer;

function variables(files: MemoryBootFiles): Record<string, string> {
  const text = files.files.get(ENV) ?? '';
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('=') && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** What the countdown in 42_imgbased does at power-on, read off the script's own branches. */
function powerOn(files: MemoryBootFiles): string {
  const script = execFileSync('sh', [SNIPPET], { encoding: 'utf8' });
  const vars = variables(files);
  let chosen = vars.saved_entry ?? '';
  const branch = new RegExp(
    `= ${vars.imgbased_trial_left} \\]; then\\n\\s+set imgbased_trial_left=(\\d)\\n\\s+save_env`,
  );
  const match = vars.imgbased_trial ? branch.exec(script) : null;
  if (match) {
    files.files.set(ENV, environmentBlock({ ...vars, imgbased_trial_left: match[1] as string }));
    chosen = vars.imgbased_trial as string;
  }
  return chosen;
}

function host() {
  const files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz-6.1.0', 'KERNEL');
  files.files.set('/boot/grub/grub.cfg', 'set default=0\nsource ${prefix}/imgbased.cfg\n');
  files.files.set(ENV, environmentBlock({}));
  const settings = grubBlsSettings.parse({});
  const plugin = grubBlsPlugin.create({
    runner: fakeEditenv(files),
    files: bootFiles(files),
    bootDir: '/boot',
    settings,
  });
  const managed = new ManagedBootloader(plugin, files, { filesystemType: async () => 'ext4' });
  return { files, managed };
}

function layer(name: string): DesiredBootEntry {
  return {
    layer: name,
    title: name,
    version: '6.1.0',
    options: [`img.bootid=${name}`],
    files: { kernel: '/src/vmlinuz-6.1.0' },
  };
}

describe('grub trial boots', () => {
  it('arms two grubenv variables, counts down at each boot, then boots saved_entry again', async () => {
    const { files, managed } = host();
    await managed.writeEntries([layer('B-1-0+1'), layer('B-2-0+1')]);
    await managed.setDefault(id('B-1-0+1'));
    const trial = managed.trial();
    if (trial === undefined) throw new Error('grub declares trial boots');
    await new TrialBoots(trial, { tries: 3, onFailure: 'reboot' }).start('B-2-0+1');
    expect(variables(files)).toMatchObject({
      saved_entry: id('B-1-0+1'),
      imgbased_trial: id('B-2-0+1'),
      imgbased_trial_left: '3',
    });
    expect(await trial.trialState()).toEqual({ defaultLayer: 'B-1-0+1', armed: { layer: 'B-2-0+1', left: 3 } });
    const boots = [powerOn(files), powerOn(files), powerOn(files), powerOn(files), powerOn(files)];
    expect(boots).toEqual([id('B-2-0+1'), id('B-2-0+1'), id('B-2-0+1'), id('B-1-0+1'), id('B-1-0+1')]);
    expect(await trial.trialState()).toEqual({ defaultLayer: 'B-1-0+1', armed: { layer: 'B-2-0+1', left: 0 } });
  });

  it('mark good: saved_entry and the disarm in one grubenv rewrite', async () => {
    const { files, managed } = host();
    await managed.writeEntries([layer('B-1-0+1'), layer('B-2-0+1')]);
    await managed.setDefault(id('B-1-0+1'));
    const trial = managed.trial()!;
    const trials = new TrialBoots(trial, { tries: 2, onFailure: 'reboot' });
    await trials.start('B-2-0+1');
    powerOn(files);
    const renames = files.steps;
    await trials.markGood('B-2-0+1');
    expect(variables(files)).toMatchObject({ saved_entry: id('B-2-0+1'), imgbased_trial: '', imgbased_trial_left: '' });
    expect(await trial.trialState()).toEqual({ defaultLayer: 'B-2-0+1', armed: undefined });
    expect(files.steps).toBeGreaterThan(renames);
    expect(powerOn(files)).toBe(id('B-2-0+1'));
  });

  it('the countdown is valid grub script, shipped in 42_imgbased, and a one-shot wins over it', () => {
    const script = execFileSync('sh', [SNIPPET], { encoding: 'utf8' });
    expect(script).toContain('if [ -z "${boot_once}" ]; then');
    expect(readFileSync(new URL('./grub-menu.ts', import.meta.url), 'utf8')).toContain("'  set boot_once=true'");
    const checker = ['/usr/bin/grub-script-check', '/usr/bin/grub2-script-check'].find((p) => {
      try {
        readFileSync(p);
        return true;
      } catch {
        return false;
      }
    });
    if (checker) execFileSync(checker, [], { input: script });
  });
});

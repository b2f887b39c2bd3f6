import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootFiles, ManagedBootloader, TrialBoots } from '@imgbased/core';
import { ExecaCommandRunner, FindmntHostInfo, nodeBootFileOps } from '@imgbased/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import extlinuxPlugin from '../src/index.js';

// The real extlinux installer on an ext4 loop file system: `--once` and `--clear-once` write the ADV
// in ldlinux.sys, and the plugin reads it back. (ldlinux clearing it at boot is the VM tests' part.)
// Needs root (mount) and the extlinux program.
const runner = new ExecaCommandRunner();
let work: string;
let boot: string;

function tool(argv: string[]) {
  return runner.run({ argv, mutates: true });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-extlinux-trial-'));
  boot = join(work, 'boot');
  await mkdir(boot);
  await tool(['truncate', '-s', '32M', join(work, 'boot.img')]);
  await tool(['mkfs.ext4', '-q', join(work, 'boot.img')]);
  await tool(['mount', '-o', 'loop', join(work, 'boot.img'), boot]);
  await mkdir(join(boot, 'extlinux'));
  await tool(['extlinux', '--install', join(boot, 'extlinux')]);
  await mkdir(join(boot, 'src'));
  await writeFile(join(boot, 'src/vmlinuz'), 'kernel\n');
});

afterAll(async () => {
  await tool(['umount', boot]).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

function layer(name: string) {
  return {
    layer: name,
    title: name,
    version: '6.1',
    options: [`img.bootid=${name}`],
    files: { kernel: join(boot, 'src/vmlinuz') },
  };
}

describe('extlinux trial boots on a real ldlinux.sys', () => {
  it('arms the trial in the ADV, reads it back, and clears it when the trial is marked bad', async () => {
    const ops = nodeBootFileOps;
    const services = { runner, files: bootFiles(ops), bootDir: boot, settings: undefined };
    const managed = new ManagedBootloader(extlinuxPlugin.create(services), ops, new FindmntHostInfo(runner));
    await managed.writeEntries([layer('B-1-0+1'), layer('B-2-0+1')]);
    const good = (await managed.state()).entries.find((e) => e.layer === 'B-1-0+1');
    await managed.setDefault(good?.id as string);
    const bootloader = managed.trial();
    if (bootloader === undefined) throw new Error('extlinux declares trial boots');
    expect((await bootloader.trialState()).armed).toBeUndefined();
    const trials = new TrialBoots(bootloader, { tries: 3, onFailure: 'reboot' });
    await trials.start('B-2-0+1');
    expect(await bootloader.trialState()).toEqual({ defaultLayer: 'B-1-0+1', armed: { layer: 'B-2-0+1', left: 1 } });
    await trials.markBad('B-2-0+1', 'required check 50-app exited 1');
    expect(await bootloader.trialState()).toEqual({ defaultLayer: 'B-1-0+1', armed: undefined });
    expect((await bootloader.readRecord()).layers['B-2-0+1']).toMatchObject({ state: 'failed' });
  });
});

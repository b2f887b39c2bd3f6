import { entryIdForLayer, ImageEngine } from '@imgbased/core';
import {
  FixedHost,
  installedLayerEntry,
  MemoryBootloader,
  MemoryLock,
  MemoryTrialBootloader,
  MemoryVolumeManager,
  RecordingFilesystem,
  updateHost,
} from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

/** The in-memory bootloader with trial boots (grub's counter). */
class TrialMemoryBootloader extends MemoryBootloader {
  readonly trials = new MemoryTrialBootloader('grub-counter', 'Base-1-0+1');
  trial() {
    return this.trials;
  }
}

let volumes: MemoryVolumeManager;
let boot: MemoryBootloader;
let engine: () => ImageEngine;

async function imgbase(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isRoot: true },
    version: '9.9.9',
    createEngine: async () => engine(),
  });
  return { code, stdout, stderr };
}

beforeEach(async () => {
  volumes = MemoryVolumeManager.thinpHost();
  boot = new TrialMemoryBootloader();
  engine = () => new ImageEngine(volumes, new RecordingFilesystem(), new FixedHost(), new MemoryLock(), boot);
  boot.present = false;
  await imgbase(['layout', '--init', 'Base-1-0', '--from', 'onn/root']);
  boot.present = true;
  boot.entries = [installedLayerEntry('Base-1-0+1')];
  boot.defaultId = entryIdForLayer('Base-1-0+1');
  await imgbase(['layer', '--add']);
  await imgbase(['boot', '--set-default', 'Base-1-0+1']);
});

describe('trial boots at the command line', () => {
  it('boot --set-default LAYER --trial: the layer boots next as a trial; layout shows it', async () => {
    expect(await imgbase(['boot', '--set-default', 'Base-1-0+2', '--trial'])).toMatchObject({
      code: 0,
      stdout: 'Base-1-0+2 boots next as a trial: it becomes the default once its checks pass (memory)\n',
    });
    expect((await imgbase(['boot', '--get-default'])).stdout).toBe('Base-1-0+1\n');
    expect((await imgbase(['layout'])).stdout).toBe(
      'Base-1-0\n +- Base-1-0+1\n +- Base-1-0+2  (trial, 3 boot(s) left)\n',
    );
    const json = JSON.parse((await imgbase(['layout', '--json'])).stdout);
    expect(json.data.bases[0].layers.map((l: { bootState: unknown }) => l.bootState)).toEqual([
      null,
      { state: 'trial', at: expect.any(String), attemptsLeft: 3, reason: null },
    ]);
  });

  it('boot --trial LAYER still boots a trial; --trial with another flag is refused', async () => {
    expect((await imgbase(['boot', '--trial', 'Base-1-0+2'])).stdout).toBe(
      'Base-1-0+2 boots next as a trial (memory)\n',
    );
    const both = await imgbase(['boot', '--next', 'Base-1-0+2', '--trial']);
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('layer --add --trial: the new layer boots next as a trial', async () => {
    const added = await imgbase(['layer', '--add', 'Base-1-0+2', '--trial']);
    expect(added.stderr).toBe('imgbase: hint: reboot to use Base-1-0+3: it boots next as a trial\n');
    expect(added.stdout).toBe(
      `Created Base-1-0+3\nAdded boot entry ${entryIdForLayer('Base-1-0+3')} (memory)\nBase-1-0+3 boots next as a trial: it becomes the default once its checks pass\n`,
    );
    expect((await imgbase(['boot', '--get-default'])).stdout).toBe('Base-1-0+1\n');
  });

  it('a bootloader without trial boots: --trial is one line, exit 1, nothing changed', async () => {
    const plain = new MemoryBootloader();
    plain.entries = [...boot.entries];
    plain.defaultId = boot.defaultId;
    boot = plain;
    for (const argv of [
      ['boot', '--set-default', 'Base-1-0+2', '--trial'],
      ['layer', '--add', '--trial'],
    ]) {
      const refused = await imgbase(argv);
      expect(refused.code, argv.join(' ')).toBe(1);
      expect(refused.stderr).toMatch(/^imgbase: memory cannot boot a layer as a trial \(drop --trial\)/);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect((await imgbase(['layout', '--layers'])).stdout).toBe('Base-1-0+1\nBase-1-0+2\n');
    expect((await imgbase(['boot', '--get-default'])).stdout).toBe('Base-1-0+1\n');
  });
});

describe('imgbase update with trial boots', () => {
  it('says the new layer boots next as a trial', async () => {
    const h = await updateHost();
    const trials = new MemoryTrialBootloader('grub-counter', 'Base-1-0+1');
    Object.assign(h.boot, { trial: () => trials });
    engine = h.engine;
    const { code, stdout, stderr } = await imgbase(['update', '/images/Base-2-0.img']);
    expect(code).toBe(0);
    expect(stderr).toBe('imgbase: hint: reboot to use Base-2-0+1: it boots next as a trial\n');
    expect(stdout.trim().split('\n').at(-1)).toBe(
      'Base-2-0+1 boots next as a trial: it becomes the default once its checks pass; reboot to use it',
    );
  });
});

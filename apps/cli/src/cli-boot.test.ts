import { entryIdForLayer, ImageEngine } from '@imgbased/core';
import {
  FixedHost,
  installedLayerEntry,
  MemoryBootloader,
  MemoryLock,
  MemoryVolumeManager,
  RecordingFilesystem,
} from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const OWN_ARGS = 'rd.lvm.lv=onn/Base-1-0+1 root=/dev/onn/Base-1-0+1 img.bootid=Base-1-0+1';
let volumes: MemoryVolumeManager;
let boot: MemoryBootloader;

async function imgbase(argv: string[], { isRoot = true } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isRoot },
    version: '9.9.9',
    createEngine: async () =>
      new ImageEngine(volumes, new RecordingFilesystem(), new FixedHost(), new MemoryLock(), boot),
  });
  return { code, stdout, stderr };
}

beforeEach(async () => {
  volumes = MemoryVolumeManager.thinpHost();
  boot = new MemoryBootloader();
  boot.present = false;
  await imgbase(['layout', '--init', 'Base-1-0', '--from', 'onn/root']);
  boot.present = true;
  boot.entries = [installedLayerEntry('Base-1-0+1')];
  boot.defaultId = entryIdForLayer('Base-1-0+1');
});

describe('imgbase boot', () => {
  it('lists, gets and sets the default, and sets a one-shot boot', async () => {
    expect((await imgbase(['layer', '--add'])).stdout).toBe(
      `Created Base-1-0+2\nAdded boot entry ${entryIdForLayer('Base-1-0+2')} (memory)\n`,
    );
    expect((await imgbase(['boot', '--get-default'])).stdout).toBe('Base-1-0+2\n');
    expect(await imgbase(['boot', '--set-default', 'Base-1-0+1'])).toMatchObject({
      code: 0,
      stdout: 'Base-1-0+1 boots by default (memory)\n',
    });
    expect((await imgbase(['boot', '--next', 'Base-1-0+2'])).stdout).toBe(
      'Base-1-0+2 boots at the next boot only (memory)\n',
    );
    expect((await imgbase(['boot', '--list'])).stdout).toBe(
      '*  Base-1-0+1  Base-1-0+1 (6.1.0)\n > Base-1-0+2  Base-1-0+2 (6.1.0)\n',
    );
  });

  it('answers --json with the versioned envelope', async () => {
    const { stdout } = await imgbase(['boot', '--list', '--json']);
    const parsed = JSON.parse(stdout);
    expect(parsed).toMatchObject({ schemaVersion: 1, verb: 'boot --list', data: { bootloader: 'memory' } });
    const set = JSON.parse((await imgbase(['boot', '--set-default', 'Base-1-0+1', '--json'])).stdout);
    expect(set).toMatchObject({ verb: 'boot --set-default', data: { layer: 'Base-1-0+1', atomic: true } });
  });

  it('gives typed errors for bad input and changes nothing', async () => {
    const before = boot.snapshot();
    const unknown = await imgbase(['boot', '--set-default', 'Base-1-0+7', '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({
      verb: 'boot --set-default',
      error: { code: 'E_LAYER_NOT_FOUND' },
    });
    expect((await imgbase(['boot', '--next', 'Base-1-0+1'], { isRoot: false })).code).toBe(1);
    expect((await imgbase(['boot'])).code).toBe(2);
    expect(boot.snapshot()).toBe(before);
  });

  it('shows and edits a layer’s kernel arguments, with --json and --dry-run', async () => {
    expect(await imgbase(['boot', '--kernel-args', 'Base-1-0+1'])).toMatchObject({
      code: 0,
      stdout: `${OWN_ARGS}\n`,
    });
    const dry = await imgbase(['boot', '--edit-kernel-args', 'Base-1-0+1', '--append', 'quiet', '--dry-run']);
    expect(dry.stdout).toMatch(/^Dry run: nothing was changed\. Base-1-0\+1 would boot with: .* quiet\n$/);
    expect((await imgbase(['boot', '--kernel-args', 'Base-1-0+1'])).stdout).toBe(`${OWN_ARGS}\n`);
    const edited = await imgbase([
      'boot',
      '--edit-kernel-args',
      'Base-1-0+1',
      '--append',
      'console=ttyS0',
      '--append',
      'quiet',
      '--json',
    ]);
    expect(JSON.parse(edited.stdout)).toMatchObject({
      verb: 'boot --edit-kernel-args',
      data: { layer: 'Base-1-0+1', previous: OWN_ARGS.split(' '), dryRun: false },
    });
    const shown = JSON.parse((await imgbase(['boot', '--kernel-args', 'Base-1-0+1', '--json'])).stdout);
    expect(shown).toMatchObject({ verb: 'boot --kernel-args' });
    expect(shown.data.options.slice(-2)).toEqual(['console=ttyS0', 'quiet']);
    expect((await imgbase(['boot', '--edit-kernel-args', 'Base-1-0+1', '--delete', 'quiet'])).stdout).not.toContain(
      'quiet',
    );
  });

  it('refuses bad kernel-argument edits with one line and changes nothing', async () => {
    const before = boot.snapshot();
    const reserved = await imgbase(['boot', '--edit-kernel-args', 'Base-1-0+1', '--delete', 'root']);
    expect(reserved.code).toBe(1);
    expect(reserved.stderr.trim().split('\n')).toHaveLength(1);
    expect(reserved.stderr).toContain('root');
    const json = await imgbase(['boot', '--edit-kernel-args', 'Base-1-0+1', '--append', 'a b', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'E_KERNEL_ARG_INVALID' } });
    expect((await imgbase(['boot', '--edit-kernel-args', 'Base-1-0+1'])).code).toBe(2);
    expect((await imgbase(['boot', '--kernel-args', 'Base-1-0+1', '--append', 'quiet'])).code).toBe(2);
    expect((await imgbase(['boot', '--edit-kernel-args', 'Base-1-0+1', '--append', 'x'], { isRoot: false })).code).toBe(
      1,
    );
    expect(boot.snapshot()).toBe(before);
  });
});

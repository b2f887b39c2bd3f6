import { ImageEngine } from '@imgbased/core';
import { FixedHost, MemoryLock, MemoryVolumeManager, RecordingFilesystem } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

let volumes: MemoryVolumeManager;

beforeEach(() => {
  volumes = MemoryVolumeManager.thinpHost();
});

async function imgbase(argv: string[], { isRoot = true } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isRoot },
    version: '9.9.9',
    createEngine: async () => new ImageEngine(volumes, new RecordingFilesystem(), new FixedHost(), new MemoryLock()),
  });
  return { code, stdout, stderr };
}

describe('imgbase', () => {
  it('prints the version as the original did', async () => {
    expect(await imgbase(['--version'])).toMatchObject({ code: 0, stdout: 'imgbased-9.9.9\n' });
  });

  it('runs the seed README session', async () => {
    expect(await imgbase(['layout', '--init', 'Base-1-0', '--from', 'onn/root'])).toMatchObject({
      code: 0,
      stdout: 'Created Base-1-0\nCreated Base-1-0+1\n',
    });
    expect((await imgbase(['layout'])).stdout).toBe('Base-1-0\n +- Base-1-0+1\n');
    expect((await imgbase(['base', '--add', 'Base-2-0', '--size', '1G'])).stdout).toBe('Created Base-2-0\n');
    expect((await imgbase(['base', '--latest'])).stdout).toBe('Base-2-0\n');
    expect((await imgbase(['layer', '--add', 'Base-1-0'])).stdout).toBe('Created Base-1-0+2\n');
    expect((await imgbase(['--debug', 'layer', '--add'])).stderr).toContain(
      '[create] Creating Base-2-0+1 from Base-2-0',
    );
    expect((await imgbase(['layout', '--layers'])).stdout).toBe('Base-1-0+1\nBase-1-0+2\nBase-2-0+1\n');
    expect((await imgbase(['layout', '--bases'])).stdout).toBe('Base-1-0\nBase-2-0\n');
    expect((await imgbase(['base', '--of-layer', 'Base-1-0+2'])).stdout).toBe('Base-1-0\n');
    expect((await imgbase(['layer', '--volume-path', 'Base-1-0+2'])).stdout).toBe('/dev/onn/Base-1-0+2\n');
    expect((await imgbase(['layout', '--free-space', '--units', 'g'])).stdout).toBe('12\n');
  });

  it('accepts the original code form of --init', async () => {
    expect((await imgbase(['layout', '--init', '--init-nvr', 'Base-1-0', '--from', 'onn/root'])).code).toBe(0);
    expect(volumes.find('Base-1-0+1')).toBeDefined();
  });

  it('answers --json in a versioned envelope, before or after the verb', async () => {
    await imgbase(['layout', '--init', 'Base-1-0', '--from', 'onn/root']);
    for (const argv of [
      ['--json', 'layout'],
      ['layout', '--json'],
    ]) {
      const { code, stdout } = await imgbase(argv);
      expect(code).toBe(0);
      const parsed = JSON.parse(stdout);
      expect(parsed).toMatchObject({
        schemaVersion: 1,
        verb: 'layout',
        data: { vg: 'onn', bases: [{ name: 'Base-1-0' }] },
      });
    }
  });

  it('reports typed errors as one line with exit 1, and as JSON with --json', async () => {
    await imgbase(['layout', '--init', 'Base-1-0', '--from', 'onn/root']);
    const plain = await imgbase(['base', '--of-layer', 'Base-1-0+5']);
    expect(plain).toMatchObject({ code: 1, stdout: '' });
    expect(plain.stderr).toBe("imgbase: No layer named 'Base-1-0+5': see 'imgbase layout --layers'\n");
    const json = await imgbase(['base', '--of-layer', 'Base-1-0+5', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      schemaVersion: 1,
      verb: 'base --of-layer',
      error: { code: 'E_LAYER_NOT_FOUND' },
    });
  });

  it('exits 2 on usage mistakes without touching anything', async () => {
    const before = volumes.snapshot();
    for (const argv of [
      ['base'],
      ['layer'],
      ['frobnicate'],
      ['layout', '--init'],
      ['base', '--add', 'B-1-0'],
      ['layout', '--bogus'],
    ]) {
      const { code, stderr } = await imgbase(argv);
      expect({ argv, code }).toEqual({ argv, code: 2 });
      expect(stderr).not.toBe('');
    }
    expect(volumes.log).toEqual([]);
    expect(volumes.snapshot()).toBe(before);
  });

  it('refuses to change anything when not root', async () => {
    const { code, stderr } = await imgbase(['layout', '--init', 'Base-1-0', '--from', 'onn/root'], { isRoot: false });
    expect(code).toBe(1);
    expect(stderr).toBe("imgbase: 'layout --init' changes the system and must run as root\n");
    expect(volumes.log).toEqual([]);
  });

  it('rejects a bad size before touching anything', async () => {
    await imgbase(['layout', '--init', 'Base-1-0', '--from', 'onn/root']);
    const before = volumes.snapshot();
    const { code, stderr } = await imgbase(['base', '--add', 'Base-2-0', '--size', 'lots']);
    expect(code).toBe(1);
    expect(stderr).toContain("Invalid size 'lots'");
    expect(volumes.snapshot()).toBe(before);
  });
});

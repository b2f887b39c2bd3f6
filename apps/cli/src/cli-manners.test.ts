import { CommandFailedError, type EngineEvent, ImageEngine, type VerbEngine } from '@imgbased/core';
import { FixedHost, MemoryLock, MemoryVolumeManager, RecordingFilesystem } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from './cli.js';

let volumes: MemoryVolumeManager;
let lock: MemoryLock;

beforeEach(() => {
  volumes = MemoryVolumeManager.thinpHost();
  lock = new MemoryLock();
});

interface Options {
  isRoot?: boolean;
  terminal?: boolean;
  debugByDefault?: boolean;
  engine?: VerbEngine;
}

async function imgbase(argv: string[], options: Options = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    isRoot: options.isRoot ?? true,
    stderrTerminal: options.terminal ? { columns: 60 } : undefined,
  };
  const code = await runCli(argv, {
    io,
    version: '9.9.9',
    createEngine: async () =>
      options.engine ?? new ImageEngine(volumes, new RecordingFilesystem(), new FixedHost(), lock),
    debugByDefault: () => options.debugByDefault ?? false,
  });
  return { code, stdout, stderr };
}

const init = ['layout', '--init', 'Base-1-0', '--from', 'onn/root'];

describe('imgbase’s manners', () => {
  it('lists every exit code in --help, its own and each command’s', async () => {
    for (const argv of [['--help'], ['layer', '--help']]) {
      const { code, stdout } = await imgbase(argv);
      expect(code).toBe(0);
      expect(stdout).toMatch(
        /Exit codes:\n {2}0 {2}done.*\n {2}1 .*\n {2}2 .*usage.*\n {2}3 .*E_LOCKED.*try again later/,
      );
    }
  });

  it('exits 3 when another operation holds the lock (E_LOCKED), with its envelope', async () => {
    await imgbase(init);
    lock.holder = 'layer --add (pid 42)';
    const { code, stdout, stderr } = await imgbase(['layer', '--add', '--json']);
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ verb: 'layer --add', error: { code: 'E_LOCKED' } });
    expect(stderr).toContain('try again when it has finished');
  });

  it('answers a usage mistake with an E_USAGE envelope when --json was given, and exit 2', async () => {
    for (const argv of [
      ['layout', '--bogus', '--json'],
      ['--json', 'frobnicate'],
      ['layout', '--free-space', '--units', 'x', '--json'],
    ]) {
      const { code, stdout, stderr } = await imgbase(argv);
      expect(code, argv.join(' ')).toBe(2);
      const envelope = JSON.parse(stdout);
      expect(envelope).toMatchObject({ schemaVersion: 1, error: { code: 'E_USAGE', name: 'UsageError' } });
      expect(envelope.error.message).not.toMatch(/^error:/);
      expect(stderr).toContain('error:');
    }
    // Without --json, stdout stays empty.
    expect(await imgbase(['layout', '--bogus'])).toMatchObject({ code: 2, stdout: '' });
  });

  it('refuses two exclusive flags and an unknown unit through commander (exit 2, nothing done)', async () => {
    await imgbase(init);
    const before = volumes.snapshot();
    for (const argv of [
      ['layer', '--add', '--latest'],
      ['layout', '--bases', '--layers'],
      ['base', '--latest', '--remove', 'Base-1-0'],
      ['boot', '--list', '--get-default'],
      ['layout', '--free-space', '--units', 'x'],
    ]) {
      const { code, stderr } = await imgbase(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stderr).toMatch(/cannot be used with|Allowed choices/);
    }
    expect(volumes.snapshot()).toBe(before);
    // A default value (layout --init's --from) is no conflict.
    expect((await imgbase(['layout', '--free-space', '--units', 'g'])).code).toBe(0);
  });

  it('lets a dry run try without root (the engine gets a dry run); the real change still needs root', async () => {
    const contexts: { dryRun?: boolean }[] = [];
    const plan = { dryRun: true, created: [], removed: [], recovered: [], plan: [{ argv: ['lvcreate', 'x'] }] };
    const engine = {
      addLayer: async (_request: unknown, context: { dryRun?: boolean }) => {
        contexts.push(context);
        return plan;
      },
    } as unknown as VerbEngine;
    const { code, stdout } = await imgbase(['layer', '--add', '--dry-run'], { isRoot: false, engine });
    expect(code).toBe(0);
    expect(stdout).toBe('Dry run: nothing was changed. These commands would run:\n  lvcreate x\n');
    expect(contexts.map((c) => c.dryRun)).toEqual([true]);
    const real = await imgbase(['layer', '--add', '--json'], { isRoot: false, engine });
    expect([real.code, JSON.parse(real.stdout).error.code]).toEqual([1, 'E_NOT_ROOT']);
    expect(contexts).toHaveLength(1);
  });

  it('says why a read failed when not root', async () => {
    const failing = new Proxy({} as VerbEngine, {
      get: (_t, method: string) =>
        method === 'then'
          ? undefined
          : async () => {
              throw new CommandFailedError(['lvm', 'lvs'], 5, '/dev/mapper/control: open failed: Permission denied');
            },
    });
    const { code, stderr } = await imgbase(['layer', '--add', '--dry-run'], { isRoot: false, engine: failing });
    expect(code).toBe(1);
    expect(stderr).toContain('imgbase: hint: reading LVM needs root, in a dry run too: run imgbase as root');
  });

  it('hints at a reboot after a change of what boots, on stderr and never with --json', async () => {
    const changed = {
      dryRun: false,
      created: ['Base-1-0+2'],
      removed: [],
      recovered: [],
      plan: [],
      boot: { bootloader: 'grub-bls', added: ['imgbased-Base-1-0+2'], removed: [], atomic: true },
    };
    const next = { dryRun: false, bootloader: 'grub-bls', layer: 'Base-1-0+1', entry: 'e', atomic: true };
    const engine = {
      addLayer: async () => changed,
      setNextBoot: async () => next,
      setDefaultBoot: async () => next,
    } as unknown as VerbEngine;
    const added = await imgbase(['layer', '--add'], { engine });
    expect(added.stdout).toContain('Created Base-1-0+2');
    expect(added.stderr).toBe('imgbase: hint: reboot to use Base-1-0+2: its boot entry is the default now\n');
    expect((await imgbase(['boot', '--next', 'Base-1-0+1'], { engine })).stderr).toContain(
      'hint: reboot to boot Base-1-0+1 once',
    );
    expect((await imgbase(['boot', '--set-default', 'Base-1-0+1'], { engine })).stderr).toContain(
      'hint: reboot to use Base-1-0+1',
    );
    expect((await imgbase(['layer', '--add', '--json'], { engine })).stderr).toBe('');
    // No hint without a boot change.
    expect((await imgbase(init)).stderr).not.toContain('hint');
  });

  it('shows steps on a terminal as one status line, cleared before the answer', async () => {
    await imgbase(init);
    const { stdout, stderr } = await imgbase(['layer', '--add'], { terminal: true });
    expect(stdout).toBe('Created Base-1-0+2\n');
    expect(stderr).toContain('\r\x1b[KCreating Base-1-0+2 from Base-1-0');
    expect(stderr.endsWith('\r\x1b[K')).toBe(true);
    // Not on a terminal, and not with --debug (which prints every step as a line).
    expect((await imgbase(['layer', '--add'])).stderr).not.toContain('\r');
    expect((await imgbase(['layer', '--add', '--debug'], { terminal: true })).stderr).not.toContain('\x1b');
  });

  it('takes --debug’s default from the configuration ([core] debug)', async () => {
    await imgbase(init);
    const { stderr } = await imgbase(['layer', '--add'], { debugByDefault: true });
    expect(stderr).toContain('[create] Creating Base-1-0+2 from Base-1-0');
  });
});

describe('the status line', () => {
  it('is fed by step and progress events only', async () => {
    const { terminalStatusLine } = await import('./progress.js');
    let out = '';
    let now = 0;
    const line = terminalStatusLine((t) => (out += t), { columns: 40, now: () => now });
    const progress = (bytes: number): EngineEvent => ({ type: 'progress', step: 'download', bytes, total: 4096 });
    line.update({ type: 'step', step: 'x', message: 'Downloading' });
    now = 100;
    line.update(progress(1024));
    now = 150;
    line.update(progress(2048)); // within 100 ms of the last draw: skipped
    now = 200;
    line.update(progress(3072));
    line.update(progress(4096)); // the end is always drawn
    line.update({ type: 'undo', message: 'ignored' });
    line.clear();
    line.clear();
    expect(out.split('\r\x1b[K')).toEqual([
      '',
      'Downloading',
      'download: 25% (1.0 KiB of 4.0 KiB)',
      'download: 75% (3.0 KiB of 4.0 KiB)',
      'download: 100% (4.0 KiB of 4.0 KiB)',
      '',
    ]);
  });
});

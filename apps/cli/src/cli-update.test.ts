import { updateHost } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

let h: Awaited<ReturnType<typeof updateHost>>;

async function imgbase(argv: string[], { isRoot = true } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isRoot },
    version: '9.9.9',
    createEngine: async () => h.engine(),
  });
  return { code, stdout, stderr };
}

beforeEach(async () => {
  h = await updateHost();
});

describe('imgbase update', () => {
  it('prints what was installed, carried over and what boots next', async () => {
    h.persistence.report = {
      ...h.persistence.report,
      conflicts: [
        { path: '/etc/motd', reason: 'changed on both sides', resolution: 'kept-admin', savedAs: '/etc/motd.imgnew' },
      ],
    };
    const { code, stdout } = await imgbase(['update', '/images/Base-2-0.img']);
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        'Installed /images/Base-2-0.img (ext4) as base Base-2-0 (NVR Base-2-0 from os-release), first layer Base-2-0+1',
        'State carried over from Base-1-0+1 (the running layer) into Base-2-0+1:',
        '  tar-diff: 1 copied, 1 merged, 1 kept from the new image, 0 deleted, 1 conflict',
        '    copied (1): /etc/hosts',
        '    merged (1): /etc/passwd',
        '    kept from the new image (1): /etc/os-release',
        '    conflict: /etc/motd: changed on both sides; the admin’s version kept, the other in /etc/motd.imgnew',
        'Bases kept: Base-1-0, Base-2-0',
        'Base-2-0+1 boots next: reboot to use it',
        '',
      ].join('\n'),
    );
  });

  it('passes every option to the engine and answers --json with the envelope', async () => {
    await h.engine().addLayer({ from: 'Base-1-0+1' });
    const sha = 'ab'.repeat(32);
    const { code, stdout } = await imgbase([
      'update',
      '/images/Base-2-0.img',
      '--nvr',
      'Node-4.7-1',
      '--format',
      'ext4',
      '--sha256',
      sha,
      '--from',
      'Base-1-0+2',
      '--keep',
      '3',
      '--json',
    ]);
    expect(code).toBe(0);
    const envelope = JSON.parse(stdout);
    expect(envelope).toMatchObject({
      schemaVersion: 1,
      verb: 'update',
      data: {
        base: 'Node-4.7-1',
        from: { layer: 'Base-1-0+2', why: 'option' },
        gc: { keep: 3 },
        image: { sha256: sha },
      },
    });
  });

  it('prints the plan in a dry run: space, GC and commands', async () => {
    const { code, stdout } = await imgbase(['update', '/images/Base-2-0.img', '--dry-run']);
    expect(code).toBe(0);
    expect(stdout).toContain('Dry run: nothing was changed.\n');
    expect(stdout).toContain('  onn/pool00 data: needs 640 MiB, 12288 MiB free\n');
    expect(stdout).toContain('  /boot free space: needs 64 MiB, 200 MiB free\n');
    expect(stdout).toContain('Garbage collection (keep 2) would remove: nothing\n');
    expect(stdout).toContain('  tar-diff: would run\n');
  });

  it.each([
    [['update'], 2, ''],
    [['update', '/images/Base-2-0.img', '--keep', 'two'], 2, 'expected a whole number'],
    [['update', '/images/Base-2-0.img', '--keep', '0'], 2, '--keep takes a whole number from 1'],
    [['update', '/images/Base-2-0.img', '--format', 'zip'], 2, ''],
    [['update', '/images/Base-2-0.img', '--from', 'Base-1-0+9'], 1, "No layer named 'Base-1-0+9'"],
  ])('refuses %j with exit code %i, changing nothing', async (argv, exit, message) => {
    const before = h.volumes.snapshot();
    const { code, stderr } = await imgbase(argv);
    expect(code).toBe(exit);
    expect(stderr).toContain(message);
    expect(h.volumes.snapshot()).toBe(before);
  });

  it('is root’s only', async () => {
    const { code, stderr } = await imgbase(['update', '/images/Base-2-0.img'], { isRoot: false });
    expect(code).toBe(1);
    expect(stderr).toBe("imgbase: 'update' changes the system and must run as root\n");
    expect(h.images.calls).toEqual([]);
  });
});

describe('imgbase rollback and base --pin/--unpin', () => {
  it('rolls back and says what boots next', async () => {
    await imgbase(['update', '/images/Base-2-0.img']);
    expect((await imgbase(['rollback', '--dry-run'])).stdout).toBe(
      'Dry run: nothing was changed. Base-1-0+1 would boot next (instead of Base-2-0+1)\n',
    );
    expect((await imgbase(['rollback'])).stdout).toBe(
      'Base-1-0+1 boots next (instead of Base-2-0+1): reboot to use it\n',
    );
    expect((await imgbase(['rollback', '--to', 'Base-2-0+1'])).stdout).toBe(
      'Base-2-0+1 boots next (instead of Base-1-0+1): reboot to use it\n',
    );
  });

  it('refuses when there is nothing to roll back to', async () => {
    const { code, stdout } = await imgbase(['rollback', '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).error.code).toBe('E_NO_ROLLBACK_TARGET');
  });

  it('pins and unpins, and the layout shows it', async () => {
    expect((await imgbase(['base', '--pin', 'Base-1-0'])).stdout).toBe(
      'Base-1-0 is now pinned: garbage collection keeps it\n',
    );
    expect((await imgbase(['layout'])).stdout).toBe('Base-1-0 (pinned)\n +- Base-1-0+1\n');
    const json = JSON.parse((await imgbase(['layout', '--json'])).stdout);
    expect(json.data.bases[0].pinned).toBe(true);
    expect((await imgbase(['base', '--unpin', 'Base-1-0'])).stdout).toBe(
      'Base-1-0 is now not pinned: garbage collection may remove it\n',
    );
  });
});

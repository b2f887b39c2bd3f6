import { existsSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { CommandFailedError, type EngineEvent, type OperationContext, SizeInvalidError } from '@imgbased/core';
import { ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { Ext4Driver, parseBlkidExport } from './ext4-driver.js';

function recorder(): { events: EngineEvent[]; context: OperationContext } {
  const events: EngineEvent[] = [];
  return { events, context: { report: (event) => events.push(event) } };
}

describe('Ext4Driver.probe', () => {
  it('reads TYPE, UUID and LABEL with blkid -p, unescaping values', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['blkid'], {
      stdout: 'DEVNAME=/dev/vg/lv\nLABEL=my\\ label\\$x\nUUID=38c39685-a053-449e-83ab-82b0c5c196c7\nTYPE=ext4\n',
    });
    const info = await new Ext4Driver(runner).probe('/dev/vg/lv');
    expect(runner.calls).toEqual([
      {
        argv: ['blkid', '-p', '-o', 'export', '-s', 'TYPE', '-s', 'UUID', '-s', 'LABEL', '/dev/vg/lv'],
        mutates: false,
        okExitCodes: [0, 2],
      },
    ]);
    expect(info).toEqual({ type: 'ext4', uuid: '38c39685-a053-449e-83ab-82b0c5c196c7', label: 'my label$x' });
  });

  it('gives undefined when blkid finds nothing (exit 2)', async () => {
    const runner = new ScriptedRunner().on(['blkid'], { exitCode: 2 });
    expect(await new Ext4Driver(runner).probe('/dev/vg/empty')).toBeUndefined();
  });

  it('gives undefined labels and UUIDs that are not there, and undefined without a TYPE', async () => {
    const runner = new ScriptedRunner().on(['blkid'], { stdout: 'DEVNAME=/dev/a\nTYPE=xfs\n' });
    expect(await new Ext4Driver(runner).probe('/dev/a')).toEqual({ type: 'xfs', uuid: undefined, label: undefined });
    runner.on(['blkid'], { stdout: 'DEVNAME=/dev/a\nPTTYPE=dos\n' });
    expect(await new Ext4Driver(runner).probe('/dev/a')).toBeUndefined();
  });

  it('fails on other blkid errors', async () => {
    const runner = new ScriptedRunner().on(['blkid'], { exitCode: 4, stderr: 'blkid: usage' });
    await expect(new Ext4Driver(runner).probe('/dev/a')).rejects.toBeInstanceOf(CommandFailedError);
  });
});

describe('Ext4Driver.create', () => {
  it('runs mkfs.ext4 with discard and the label', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['mkfs.ext4'], {});
    await new Ext4Driver(runner).create('/dev/vg/lv', { label: 'root' });
    await new Ext4Driver(runner).create('/dev/vg/lv2', {});
    expect(runner.calls).toEqual([
      { argv: ['mkfs.ext4', '-q', '-F', '-E', 'discard', '-L', 'root', '/dev/vg/lv'], mutates: true },
      { argv: ['mkfs.ext4', '-q', '-F', '-E', 'discard', '/dev/vg/lv2'], mutates: true },
    ]);
  });

  it('maps a mkfs failure to CommandFailedError', async () => {
    const runner = new ScriptedRunner().on(['mkfs.ext4'], {
      exitCode: 1,
      stderr: 'mkfs.ext4: Device size reported to be zero.',
    });
    const error = await new Ext4Driver(runner).create('/dev/vg/lv', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as Error).message).toContain('Device size reported to be zero');
  });
});

describe('Ext4Driver.regenerateUuid', () => {
  it('checks the file system fully, then gives it a random UUID', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['e2fsck'], { exitCode: 1 }).on(['tune2fs'], {});
    await new Ext4Driver(runner).regenerateUuid('/dev/vg/layer');
    expect(runner.calls).toEqual([
      { argv: ['e2fsck', '-f', '-y', '/dev/vg/layer'], mutates: true, okExitCodes: [0, 1] },
      { argv: ['tune2fs', '-U', 'random', '/dev/vg/layer'], mutates: true },
    ]);
  });

  it('stops when e2fsck leaves errors (exit 4)', async () => {
    const runner = new ScriptedRunner().on(['e2fsck'], { exitCode: 4, stderr: 'UNEXPECTED INCONSISTENCY' });
    await expect(new Ext4Driver(runner).regenerateUuid('/dev/vg/layer')).rejects.toBeInstanceOf(CommandFailedError);
    expect(runner.commandLines).toEqual(['e2fsck -f -y /dev/vg/layer']);
  });
});

describe('Ext4Driver.resize', () => {
  it('checks, then grows to fill the device', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['e2fsck'], {}).on(['resize2fs'], {});
    await new Ext4Driver(runner).resize('/dev/vg/lv', undefined);
    expect(runner.commandLines).toEqual(['e2fsck -f -y /dev/vg/lv', 'resize2fs /dev/vg/lv']);
    expect(runner.calls.every((c) => c.mutates)).toBe(true);
  });

  it('gives resize2fs an explicit size in KiB', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['e2fsck'], {}).on(['resize2fs'], {});
    await new Ext4Driver(runner).resize('/dev/vg/lv', 8 * 1024 ** 3);
    expect(runner.commandLines.at(-1)).toBe('resize2fs /dev/vg/lv 8388608K');
  });

  it('rejects sizes that are not a whole number of bytes of at least 1 KiB', async () => {
    const driver = new Ext4Driver(new ScriptedRunner({ strict: true }));
    for (const size of [0, -4096, 1.5, 512, Number.NaN]) {
      await expect(driver.resize('/dev/vg/lv', size)).rejects.toBeInstanceOf(SizeInvalidError);
    }
  });
});

describe('Ext4Driver.trim', () => {
  it('runs fstrim on the mount point', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['fstrim'], {});
    await new Ext4Driver(runner).trim('/tmp/imgbased-mnt-x');
    expect(runner.calls).toEqual([{ argv: ['fstrim', '/tmp/imgbased-mnt-x'], mutates: true }]);
  });
});

describe('Ext4Driver.withMounted', () => {
  const mountRunner = () => new ScriptedRunner({ strict: true }).on(['mount'], {}).on(['umount'], {});

  it('mounts read-only on a private temporary directory, runs use, unmounts and removes the directory', async () => {
    const runner = mountRunner();
    let seen = '';
    const value = await new Ext4Driver(runner).withMounted('/dev/vg/base', { readOnly: true }, async (dir) => {
      seen = dir;
      expect(statSync(dir).isDirectory()).toBe(true);
      expect(statSync(dirname(dir)).mode & 0o777).toBe(0o700);
      return 42;
    });
    expect(value).toBe(42);
    expect(seen).toMatch(new RegExp(`^${tmpdir()}/imgbased-mnt-[^/]+/root$`));
    expect(runner.commandLines).toEqual([`mount -t ext4 -o ro /dev/vg/base ${seen}`, `umount ${seen}`]);
    expect(existsSync(dirname(seen))).toBe(false);
  });

  it('mounts read-write when asked', async () => {
    const runner = mountRunner();
    await new Ext4Driver(runner).withMounted('/dev/vg/layer', { readOnly: false }, async () => undefined);
    expect(runner.calls[0]!.argv.slice(0, 5)).toEqual(['mount', '-t', 'ext4', '-o', 'rw']);
  });

  it('unmounts and removes the directory when use fails, and passes the failure on', async () => {
    const runner = mountRunner();
    let seen = '';
    const failure = new Error('use failed');
    const error = await new Ext4Driver(runner)
      .withMounted('/dev/vg/layer', { readOnly: false }, async (dir) => {
        seen = dir;
        throw failure;
      })
      .catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(runner.commandLines).toEqual([`mount -t ext4 -o rw /dev/vg/layer ${seen}`, `umount ${seen}`]);
    expect(existsSync(dirname(seen))).toBe(false);
  });

  it('unmounts even when the operation was cancelled (cleanup does not carry the signal)', async () => {
    const runner = mountRunner();
    const controller = new AbortController();
    await expect(
      new Ext4Driver(runner).withMounted(
        '/dev/vg/layer',
        { readOnly: true },
        async () => {
          controller.abort();
          throw new Error('cancelled');
        },
        { signal: controller.signal },
      ),
    ).rejects.toThrow('cancelled');
    expect(runner.commandLines.at(-1)).toMatch(/^umount /);
  });

  it('removes the directory and throws when the mount fails, without running use', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['mount'], { exitCode: 32, stderr: 'mount: wrong fs type' });
    let used = false;
    const error = await new Ext4Driver(runner)
      .withMounted('/dev/vg/bad', { readOnly: true }, async () => {
        used = true;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect(used).toBe(false);
    const dir = runner.calls[0]!.argv.at(-1)!;
    expect(existsSync(dirname(dir))).toBe(false);
    expect(runner.commandLines).toHaveLength(1);
  });

  it('retries a busy unmount once', async () => {
    let umounts = 0;
    const runner = new ScriptedRunner({ strict: true })
      .on(['mount'], {})
      .on(['umount'], () => (++umounts === 1 ? { exitCode: 32, stderr: 'target is busy' } : {}));
    const { events, context } = recorder();
    await new Ext4Driver(runner).withMounted('/dev/vg/lv', { readOnly: true }, async () => 1, context);
    expect(runner.commandLines.filter((l) => l.startsWith('umount'))).toHaveLength(2);
    expect(events.some((e) => e.type === 'warning')).toBe(false);
  });

  it('detaches lazily, with a warning, when the file system stays busy', async () => {
    const runner = new ScriptedRunner({ strict: true })
      .on(['mount'], {})
      .on(['umount'], { exitCode: 32, stderr: 'target is busy' })
      .on(['umount', '-l'], {});
    const { events, context } = recorder();
    let seen = '';
    await new Ext4Driver(runner).withMounted(
      '/dev/vg/lv',
      { readOnly: true },
      async (dir) => {
        seen = dir;
      },
      context,
    );
    expect(runner.commandLines).toEqual([
      `mount -t ext4 -o ro /dev/vg/lv ${seen}`,
      `umount ${seen}`,
      `umount ${seen}`,
      `umount -l ${seen}`,
    ]);
    expect(events.filter((e) => e.type === 'warning')).toEqual([
      { type: 'warning', message: expect.stringContaining('detached lazily') },
    ]);
    expect(existsSync(dirname(seen))).toBe(false);
  });

  it('fails when even the lazy unmount fails after use succeeded', async () => {
    const runner = new ScriptedRunner({ strict: true })
      .on(['mount'], {})
      .on(['umount'], { exitCode: 1, stderr: 'nope' });
    let seen = '';
    await expect(
      new Ext4Driver(runner).withMounted('/dev/vg/lv', { readOnly: true }, async (dir) => {
        seen = dir;
      }),
    ).rejects.toBeInstanceOf(CommandFailedError);
    // Still "mounted", so it stays; a real one would be busy.
    expect(existsSync(seen)).toBe(true);
    rmdirSync(seen);
    rmdirSync(dirname(seen));
  });

  it('in a dry run, plans mount and unmount and gives use a placeholder that does not exist', async () => {
    const runner = new ScriptedRunner({ strict: true });
    const { events, context: recording } = recorder();
    const context = { ...recording, dryRun: true };
    let seen = '';
    const value = await new Ext4Driver(runner).withMounted(
      '/dev/vg/layer',
      { readOnly: false },
      async (dir) => {
        seen = dir;
        await runner.run({ argv: ['touch', `${dir}/x`], mutates: true }, context);
        return 'planned';
      },
      context,
    );
    expect(value).toBe('planned');
    expect(existsSync(seen)).toBe(false);
    expect(seen).toContain('dry run:layer');
    expect(runner.commandLines).toEqual([
      `mount -t ext4 -o rw /dev/vg/layer ${seen}`,
      `touch ${seen}/x`,
      `umount ${seen}`,
    ]);
    expect(events.every((e) => e.type === 'command' && e.planned)).toBe(true);
  });
});

describe('parseBlkidExport', () => {
  it('splits at the first = and unescapes backslashes', () => {
    const tags = parseBlkidExport('LABEL=a\\=b\\\\c\\ d\nTYPE=ext4\n\ngarbage\n');
    expect(Object.fromEntries(tags)).toEqual({ LABEL: 'a=b\\c d', TYPE: 'ext4' });
  });
});

import { CommandFailedError, InternalError } from '@imgbased/core';
import { ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { FindmntHostInfo, parseFindmnt } from './findmnt-host-info.js';

const rootJson = `{
   "filesystems": [
      {
         "source": "/dev/mapper/onn-ovirt--node--ng--4.5.5--0.20231130.0+1",
         "maj:min": "253:14"
      }
   ]
}
`;

describe('FindmntHostInfo', () => {
  it('reads the root with findmnt --mountpoint /', async () => {
    const runner = new ScriptedRunner(false, true).on(['findmnt'], { stdout: rootJson });
    const root = await new FindmntHostInfo(runner).mountedRoot();
    expect(runner.commandLines).toEqual(['findmnt --json --nofsroot --output SOURCE,MAJ:MIN --mountpoint /']);
    expect(runner.calls[0]!.mutates).toBe(false);
    expect(root).toEqual({
      source: '/dev/mapper/onn-ovirt--node--ng--4.5.5--0.20231130.0+1',
      device: { major: 253, minor: 14 },
    });
  });

  it('reads the device behind a path with findmnt --target', async () => {
    const runner = new ScriptedRunner(false, true).on(['findmnt'], {
      stdout: '{"filesystems": [{"source": "/dev/vda", "maj:min": "254:0"}]}',
    });
    const mount = await new FindmntHostInfo(runner).deviceOfMount('/var/lib/x');
    expect(runner.commandLines).toEqual(['findmnt --json --nofsroot --output SOURCE,MAJ:MIN --target /var/lib/x']);
    expect(mount).toEqual({ source: '/dev/vda', device: { major: 254, minor: 0 } });
  });

  it('still reads in a dry run', async () => {
    const runner = new ScriptedRunner(true, true).on(['findmnt'], { stdout: rootJson });
    expect((await new FindmntHostInfo(runner).mountedRoot()).device).toEqual({ major: 253, minor: 14 });
  });

  it('passes findmnt failures on', async () => {
    const runner = new ScriptedRunner().on(['findmnt'], { exitCode: 1, stderr: 'findmnt: nothing' });
    await expect(new FindmntHostInfo(runner).deviceOfMount('/nope')).rejects.toBeInstanceOf(CommandFailedError);
  });
});

describe('parseFindmnt', () => {
  it('takes the last of stacked mounts (the visible one)', () => {
    const json = JSON.stringify({
      filesystems: [
        { source: '/dev/vda', 'maj:min': '254:0' },
        { source: 'overlay', 'maj:min': '0:45' },
      ],
    });
    expect(parseFindmnt(json)).toEqual({ source: 'overlay', device: { major: 0, minor: 45 } });
  });

  it('leaves the device undefined when findmnt gives no numbers', () => {
    expect(parseFindmnt('{"filesystems":[{"source":"rootfs","maj:min":null}]}')).toEqual({
      source: 'rootfs',
      device: undefined,
    });
  });

  it('rejects output that is not what findmnt prints', () => {
    expect(() => parseFindmnt('not json')).toThrow(InternalError);
    expect(() => parseFindmnt('{"filesystems":[]}')).toThrow(InternalError);
    expect(() => parseFindmnt('null')).toThrow(InternalError);
  });
});

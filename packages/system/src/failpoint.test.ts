import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandStepName, failpointGateOpen, parseFailpointSettings } from './failpoint.js';

describe('fail points', () => {
  it('are off unless the environment asks', () => {
    expect(parseFailpointSettings({})).toBeUndefined();
    expect(parseFailpointSettings({ IMGBASED_FAILPOINT: '' })).toBeUndefined();
  });

  it('read <step-name>:<n>, `*` for any step, and a trace file', () => {
    expect(parseFailpointSettings({ IMGBASED_FAILPOINT: 'run.lvm.lvcreate:2' })).toEqual({
      kill: { name: 'run.lvm.lvcreate', at: 2 },
      trace: undefined,
    });
    expect(parseFailpointSettings({ IMGBASED_FAILPOINT: '*:17', IMGBASED_FAILPOINT_TRACE: '/t' })).toEqual({
      kill: { name: '*', at: 17 },
      trace: '/t',
    });
    expect(parseFailpointSettings({ IMGBASED_FAILPOINT_TRACE: '/t' })).toEqual({ kill: undefined, trace: '/t' });
    for (const bad of ['boot.rename', 'boot.rename:0', ':3', 'x:-1', 'x:1.5']) {
      expect(() => parseFailpointSettings({ IMGBASED_FAILPOINT: bad }), bad).toThrow('expected <step-name>:<n>');
    }
  });

  it('need the gate file, a regular file of root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'failpoint-'));
    expect(failpointGateOpen(join(dir, 'missing'))).toBe(false);
    expect(failpointGateOpen(dir)).toBe(false);
    writeFileSync(join(dir, 'gate'), '');
    expect(failpointGateOpen(join(dir, 'gate'))).toBe(process.getuid?.() === 0);
  });

  it('name commands by program, lvm by its subcommand', () => {
    expect(commandStepName(['lvm', 'lvcreate', '-n', 'x'])).toBe('run.lvm.lvcreate');
    expect(commandStepName(['/usr/sbin/tune2fs', '-U', 'random'])).toBe('run.tune2fs');
    expect(commandStepName(['mount', '-o', 'ro'])).toBe('run.mount');
  });
});

import { bootFiles } from '@imgbased/core';
import { MemoryBootFiles } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { faultInjectingOps } from './fault-injection.js';
import { validatedSettings } from './settings.js';

describe('faultInjectingOps', () => {
  it('fails the chosen changing step and every one after it, reads aside, until disarmed', async () => {
    const memory = new MemoryBootFiles();
    const ops = faultInjectingOps(memory);
    const files = bootFiles(ops);
    await files.replace('/boot/a.conf', 'one'); // remove, writeNew, rename, syncDirectory
    expect(ops.steps).toBe(4);
    expect(ops.cut).toBe(false);

    ops.cutAt(3);
    await expect(files.replace('/boot/a.conf', 'two')).rejects.toMatchObject({ code: 'ECUT' });
    expect(ops.cut).toBe(true);
    await expect(ops.remove('/boot/.a.conf.imgbased-new')).rejects.toMatchObject({ code: 'ECUT' });
    expect(await ops.read('/boot/a.conf')).toBe('one');
    expect(await ops.read('/boot/.a.conf.imgbased-new')).toBe('two');

    ops.disarm();
    await files.replace('/boot/a.conf', 'three');
    expect(await ops.read('/boot/a.conf')).toBe('three');
  });
});

describe('validatedSettings', () => {
  const schema = {
    '~standard': {
      version: 1 as const,
      vendor: 'test',
      validate: (value: unknown) =>
        (value as { mode?: unknown }).mode === 'bad'
          ? { issues: [{ message: 'mode: not a mode' }] }
          : { value: { mode: String((value as { mode?: unknown }).mode ?? 'auto') } },
    },
  };

  it("gives the schema's defaults without raw settings, validated values with them, and refuses bad ones", async () => {
    expect(await validatedSettings('p', schema, undefined)).toEqual({ mode: 'auto' });
    expect(await validatedSettings('p', schema, { mode: 'menu' })).toEqual({ mode: 'menu' });
    await expect(validatedSettings('p', schema, { mode: 'bad' })).rejects.toThrow(/mode: not a mode/);
  });

  it('refuses settings for a plugin that declares no schema', async () => {
    expect(await validatedSettings('p', undefined, undefined)).toBeUndefined();
    await expect(validatedSettings('p', undefined, { mode: 'x' })).rejects.toThrow(/declares no settings schema/);
  });
});

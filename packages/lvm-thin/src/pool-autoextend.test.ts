import { ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { LvmThinVolumeManager } from './lvm-thin-volume-manager.js';

describe('LvmThinVolumeManager.poolAutoextend', () => {
  it('reads both settings from lvmconfig --typeconfig full (defaults included)', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['lvm', 'lvmconfig'], {
      stdout: 'thin_pool_autoextend_threshold=80\nthin_pool_autoextend_percent=20\n',
    });
    expect(await new LvmThinVolumeManager(runner).poolAutoextend()).toEqual({ threshold: 80, percent: 20 });
    expect(runner.calls[0]!.argv).toEqual([
      'lvm',
      'lvmconfig',
      '--typeconfig',
      'full',
      'activation/thin_pool_autoextend_threshold',
      'activation/thin_pool_autoextend_percent',
    ]);
  });

  it('fails plainly when lvmconfig prints something else', async () => {
    const runner = new ScriptedRunner().on(['lvm', 'lvmconfig'], { stdout: 'thin_pool_autoextend_threshold=80\n' });
    await expect(new LvmThinVolumeManager(runner).poolAutoextend()).rejects.toMatchObject({ code: 'E_INTERNAL' });
  });
});

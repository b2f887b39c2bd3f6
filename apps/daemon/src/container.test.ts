import { Bootloader, BootloaderSelection, ImageEngine, OperationLock } from '@imgbased/core';
import { MemoryBootloader } from '@imgbased/core/testing';
import { PidFileLock } from '@imgbased/system';
import { describe, expect, it } from 'vitest';
import { buildContainer, createEngines, PerCallBootloaderSelection } from './container.js';

describe("the daemon's composition root", () => {
  it('wires the real engine, and the CLI lock in the configured lock directory', async () => {
    const container = await buildContainer();
    const lock = container.resolve<PidFileLock>(OperationLock);
    expect(lock).toBeInstanceOf(PidFileLock);
    expect(lock.lockPath).toBe('/run/imgbased/lock');
    const engines = await createEngines();
    expect(engines.engine(false)).toBeInstanceOf(ImageEngine);
    // One engine for real and dry runs: the job's context says which.
    expect(engines.engine(true)).toBe(engines.engine(false));
  });

  it('offers the CLI’s bootloader plugins, in its order, chosen again on every call', async () => {
    const container = await buildContainer();
    expect(container.resolveAll<Bootloader>(Bootloader).map((b) => b.name)).toEqual([
      'extlinux',
      'grub-bls',
      'systemd-boot',
    ]);
    expect(container.resolve(BootloaderSelection)).toBeInstanceOf(PerCallBootloaderSelection);
  });
});

describe('PerCallBootloaderSelection', () => {
  it('sees a bootloader that appears after the daemon started (the CLI’s choice is made once)', async () => {
    const boot = new MemoryBootloader();
    boot.present = false;
    const auto = new PerCallBootloaderSelection([boot], ['auto']);
    const named = new PerCallBootloaderSelection([boot], ['memory']);
    expect(await auto.select()).toBeUndefined();
    await expect(named.select()).rejects.toMatchObject({ code: 'E_NO_BOOTLOADER' });
    boot.present = true;
    expect(await auto.select()).toBe(boot);
    expect(await named.select()).toBe(boot);
    boot.present = false;
    expect(await auto.select()).toBeUndefined();
  });
});

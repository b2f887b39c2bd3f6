// The stories both bootloaders tell the same way in the userspace trial tests (trial-userspace-*):
// the boots of one disk in a row, each logged, with the checks of a good update, a failed required
// check and a power cut during mark-good. (The panicking update differs per bootloader: grub counts
// down by itself, extlinux is re-armed by the good layer.)
import { expect } from 'vitest';
import {
  BROKEN_CHECK,
  BROKEN_SAYS,
  bootUserspace,
  describeBoot,
  LAYER,
  type UserspaceBoot,
  type UserspaceDisk,
} from '../../src/userspace-trial.ts';

export type Boot = () => Promise<UserspaceBoot>;

/** Boots `disk` once per call, logging each boot; `summary()` prints the timings. */
export function storyBooter(disk: UserspaceDisk): { boot: Boot; log: (line: string) => void; summary: () => void } {
  const lines: string[] = [];
  const started = Date.now();
  const boots: UserspaceBoot[] = [];
  const log = (line: string) => {
    lines.push(line);
    console.log(`trial-userspace-${disk.bootloader}: ${line}`);
  };
  log(
    `userspace image ${Math.round(disk.image.usedBytes / 1024 ** 2)} MiB used (built in ${Math.round(disk.image.buildMs / 1000)} s; 0: cached); disk laid out in ${Math.round(disk.prepareMs / 1000)} s`,
  );
  return {
    log,
    boot: async () => {
      const boot = await bootUserspace(disk);
      boots.push(boot);
      log(`boot ${boots.length}: ${describeBoot(boot)}`);
      return boot;
    },
    summary: () => {
      const vm = boots.reduce((sum, b) => sum + b.durationMs, 0);
      log(
        `${boots.length} boots, ${Math.round(vm / 1000)} s of VM time; ${Math.round((Date.now() - started) / 1000)} s in all`,
      );
    },
  };
}

const tail = (boot: UserspaceBoot) => boot.console.slice(-4000);

/** A boot of `layer` whose own userspace ran and reported. */
export function expectUserspace(boot: UserspaceBoot, layer: string): void {
  expect(boot.layer, tail(boot)).toBe(layer);
  expect(boot.init).toBe('/sbin/init');
  expect(boot.userspace, tail(boot)).toBe(layer);
}

/** (1) The trial's own check marks it good; the next ordinary boot lands in it (and arms the next story). */
export async function expectGoodUpdate(boot: Boot): Promise<void> {
  const trial = await boot();
  expectUserspace(trial, LAYER.update);
  expect(trial.status, tail(trial)).toBeDefined();
  expect(trial.status!.trial).toBeNull();
  expect(trial.status!.layers.find((l) => l.layer === LAYER.update)).toMatchObject({ state: 'good' });
  expect(trial.armed, 'nothing is armed in the boot that marked the layer good').toBeUndefined();
  const next = await boot();
  expectUserspace(next, LAYER.update);
  expect(next.armed, tail(next)).toBe(LAYER.failsCheck);
}

/** (2) The required check fails: the trial is marked bad and reboots; the good layer boots and knows why. */
export async function expectFailedCheck(boot: Boot): Promise<void> {
  const trial = await boot();
  expectUserspace(trial, LAYER.failsCheck);
  // The check's own reboot ends this boot (the reporter, ordered after it, never powers off).
  expect(trial.console, tail(trial)).not.toMatch(/IMGBASED-USERSPACE end: poweroff/);
  const back = await boot();
  expectUserspace(back, LAYER.update);
  const verdict = back.status?.layers.find((l) => l.layer === LAYER.failsCheck);
  expect(verdict, tail(back)).toMatchObject({ state: 'failed' });
  expect(verdict!.reason).toContain(BROKEN_CHECK);
  expect(verdict!.reason).toContain(BROKEN_SAYS);
  expect(back.status!.trial).toBeNull();
  expect(back.armed).toBe(LAYER.panics);
}

/** (3) A boot of the panicking layer: the initrd hands over to init=/nonexistent and the kernel panics. */
export function expectPanic(boot: UserspaceBoot): void {
  expect(boot.layer, tail(boot)).toBe(LAYER.panics);
  expect(boot.init).toBe('/nonexistent');
  expect(boot.userspace, 'no userspace of the failed layer ran').toBeUndefined();
  expect(boot.panicked, tail(boot)).toBe(true);
}

/**
 * (4) The trial's check is cut (guest power cut, sysrq b: nothing unsynced survives) right after the
 * fail point; the next boot lands in the trial or the good layer, whose userspace runs (its check may
 * end that boot with a reboot: extlinux's good layer re-arms a trial that has attempts left).
 */
export async function expectCutThenEither(boot: Boot): Promise<UserspaceBoot> {
  const cut = await boot();
  expectUserspace(cut, LAYER.cut);
  expect(cut.powerCut, tail(cut)).toBe(true);
  expect(cut.trace.length, 'the fail point traced the steps before the cut').toBeGreaterThan(0);
  const next = await boot();
  expect([LAYER.cut, LAYER.update], tail(next)).toContain(next.layer);
  expect(next.userspace, tail(next)).toBe(next.layer);
  return next;
}

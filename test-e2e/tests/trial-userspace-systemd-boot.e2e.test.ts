// Trial boots under systemd-boot (252, OVMF, the ESP on a second disk) with the layers' own Debian
// userspace, whose imgbased-boot-check.service runs `imgbase boot --check-trial`
// (test-e2e/src/userspace-trial.ts): a good update, an update whose required check fails, one that
// panics before its userspace, and a power cut in the middle of a mark-good. `[trial] tries = 2`, `on_failure = reboot`. One disk, one chain of
// boots: each story starts from where the previous one left the host.
import { describe, expect, it } from 'vitest';
import { LAYER, layerBootLogs, prepareUserspaceDisk } from '../src/userspace-trial.ts';
import {
  expectCutThenEither,
  expectFailedCheck,
  expectGoodUpdate,
  expectPanic,
  expectUserspace,
  storyBooter,
} from './support/userspace-stories.ts';

describe('systemd-boot trial boots in the layers’ own userspace', () => {
  it('a good update, a failing check, a panic, a power cut during mark-good: each ends in a layer that works', {
    timeout: 30 * 60_000,
  }, async () => {
    const disk = await prepareUserspaceDisk('systemd-boot', 'boot.rename:1');
    const { boot, log, summary } = storyBooter(disk);

    // (1) The trial boots, its check marks it good; the next ordinary boot lands in it.
    await expectGoodUpdate(boot);

    // (2) A required check fails: marked bad, rebooted into the last good layer, which says why.
    await expectFailedCheck(boot);

    // (3) Panics before userspace: systemd-boot counts it down in the entry's file name (+2, +1-1,
    // +0-2) before each kernel, so it boots it twice, then the good layer by itself; there the check
    // finds no tries left and records the failure.
    expectPanic(await boot());
    expectPanic(await boot());
    const afterPanics = await boot();
    expectUserspace(afterPanics, LAYER.update);
    expect(afterPanics.status?.trial).toBeNull();
    expect(afterPanics.status?.layers.find((l) => l.layer === LAYER.panics)).toMatchObject({ state: 'failed' });
    expect(afterPanics.armed).toBe(LAYER.cut);

    // (4) A power cut right after the first rename of the mark-good (the trial's entry file back to its
    // plain name), before the rest and the record follow: the next boot is the trial or the good layer.
    await expectCutThenEither(boot);

    const logs = await layerBootLogs(disk);
    log(`layers' own boot logs: ${JSON.stringify(logs)}`);
    expect(logs[LAYER.panics], 'no userspace of the panicking layer ever ran').toEqual([]);
    expect(logs[LAYER.failsCheck]).toHaveLength(1);
    summary();
  });
});

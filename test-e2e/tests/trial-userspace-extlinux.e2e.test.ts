// Trial boots under extlinux (SeaBIOS, MBR, ldlinux's boot-once) with the layers' own Debian userspace,
// whose imgbased-boot-check.service runs `imgbase boot --check-trial` (test-e2e/src/userspace-trial.ts):
// a good update, an update whose required check fails, one that panics before its userspace, and a
// power cut in the middle of a mark-good. `[trial] tries = 2`, `on_failure = reboot`. One disk, one
// chain of boots: each story starts from where the previous one left the host.
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

describe('extlinux trial boots in the layers’ own userspace', () => {
  it('a good update, a failing check, a panic, a power cut during mark-good: each ends in a layer that works', {
    timeout: 30 * 60_000,
  }, async () => {
    const disk = await prepareUserspaceDisk('extlinux', 'boot.rename:1');
    const { boot, log, summary } = storyBooter(disk);

    // (1) The trial boots once (the ADV's boot-once), its check marks it good (DEFAULT); the next
    // ordinary boot lands in it.
    await expectGoodUpdate(boot);

    // (2) A required check fails: marked bad, rebooted into DEFAULT, the good layer, which says why.
    await expectFailedCheck(boot);

    // (3) Panics before userspace: ldlinux boots DEFAULT next by itself (the boot-once is spent); the
    // good layer's check re-arms it while attempts < tries, then records the failure.
    expectPanic(await boot());
    const rearm = await boot();
    expectUserspace(rearm, LAYER.update);
    const again = await boot();
    expectPanic(again);
    const gaveUp = await boot();
    expectUserspace(gaveUp, LAYER.update);
    expect(gaveUp.status?.trial).toBeNull();
    expect(gaveUp.status?.layers.find((l) => l.layer === LAYER.panics)).toMatchObject({ state: 'failed' });
    expect(gaveUp.armed).toBe(LAYER.cut);

    // (4) A power cut right after the first rename of the mark-good (extlinux.conf naming the trial
    // DEFAULT), before the record follows: the next boot is the trial or the good layer.
    await expectCutThenEither(boot);

    const logs = await layerBootLogs(disk);
    log(`layers' own boot logs: ${JSON.stringify(logs)}`);
    expect(logs[LAYER.panics], 'no userspace of the panicking layer ever ran').toEqual([]);
    expect(logs[LAYER.failsCheck]).toHaveLength(1);
    summary();
  });
});

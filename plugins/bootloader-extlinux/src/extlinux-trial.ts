import type { BootFileOps, BootloaderTrial, CommandRunner } from '@imgbased/core';
import { ADV_BYTES, bootOnceLabel, bytesFromOd } from './extlinux-adv.js';

/**
 * imgbased's trial protocol for extlinux (`extlinux-once`, README): the trial is armed with ldlinux's
 * boot-once (`extlinux --once`), which ldlinux clears before booting it, so a trial that panics is
 * booted once per arm; DEFAULT keeps naming the last good layer. Only the ADV is written, never
 * ldlinux.sys's code (`--once` and `--clear-once` on an installed directory modify the ADV only).
 */
export function extlinuxTrial(runner: CommandRunner, files: BootFileOps, directory: string): BootloaderTrial {
  const ldlinux = `${directory}/ldlinux.sys`;
  return {
    protocol: 'extlinux-once',
    async armed(_location, before, context) {
      // Not installed by extlinux (or not yet): no ADV, so nothing can be armed.
      if (!(await files.exists(ldlinux))) return undefined;
      const size = await runner.run({ argv: ['stat', '-c', '%s', ldlinux], mutates: false }, context);
      const skip = Number(size.stdout.trim()) - ADV_BYTES;
      if (!Number.isFinite(skip) || skip < 0) return undefined;
      const od = await runner.run(
        { argv: ['od', '-An', '-v', '-tx1', '-j', String(skip), '-N', String(ADV_BYTES), ldlinux], mutates: false },
        context,
      );
      const label = bootOnceLabel(bytesFromOd(od.stdout));
      if (label === undefined || !before.entries.some((e) => e.id === label)) return undefined;
      return { entryId: label, left: 1 };
    },
    async arm(_location, entryId, _left, _before, context) {
      await runner.run({ argv: ['extlinux', `--once=${entryId}`, directory], mutates: true }, context);
    },
    async disarm(_location, _before, _makeDefault, context) {
      await runner.run({ argv: ['extlinux', '--clear-once', directory], mutates: true }, context);
      return { defaultWritten: false };
    },
  };
}

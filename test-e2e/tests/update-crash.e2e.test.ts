// imgbase update killed with SIGKILL (its whole process group, as a stopped service or a power cut
// leaves it) during the image copy, during the carry-over and during the boot entry's write, on real
// LVM thin in one VM run: each time the next command recovers (the half-made base and layer, their
// entry and /boot files, the mounts), and in the end the old layer still boots.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootDisk } from '../src/index.ts';
import { IMGBASE, inVm } from './support/boot-scenario.ts';
import { buildUpdateImage, CLOSE, parseUpdateProof, prepareUpdateDisk } from './support/update-scenario.ts';

/**
 * `killed_when CONDITION ARGS…`: runs `imgbase update ARGS…` in a process group of its own and SIGKILLs
 * the group as soon as the shell CONDITION holds; says whether it did (`killed`) or the update ended first.
 */
const KILLED_WHEN = `killed_when() {
  cond="$1"; shift
  setsid ${IMGBASE} update "$@" >/tmp/killed.out 2>&1 &
  pid=$!
  while kill -0 $pid 2>/dev/null; do
    if eval "$cond"; then kill -9 -$pid; wait $pid 2>/dev/null || true; echo killed; return; fi
    sleep 0.02
  done
  wait $pid || true
  echo "not killed: the update ended first"; cat /tmp/killed.out
}
state() {
  lvm lvs --noheadings -o lv_name,lv_tags onn | sort
  grep -c imgbased-mnt /proc/mounts || true
  ls -a /boot
  grep -E '^(DEFAULT|LABEL)' /boot/extlinux/extlinux.conf
}`;

function sections(out: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const part of out.split(/^@@/m).slice(1)) {
    const newline = part.indexOf('\n');
    found[part.slice(0, newline)] = part.slice(newline + 1);
  }
  return found;
}

describe('imgbase update killed with SIGKILL', () => {
  it('is recovered by the next command after a kill during the copy, the carry-over and the boot entry write; the old layer boots', async () => {
    const { disk, dir, setup } = await prepareUpdateDisk('update-crash');
    const image = await buildUpdateImage(path.join(dir, 'Node-2-1.img'), {
      nvr: 'Node-2-1',
      format: 'ext4',
      fillerBytes: 160 * 2 ** 20,
    });
    const out = await inVm(
      disk,
      `${setup}
${KILLED_WHEN}
echo @@before
state
echo @@copy
# The copy runs in imgbase itself: the new volume exists and the image is open.
killed_when '[ -e /dev/onn/Node-2-1 ] && ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q Node-2-1.img' ${image}
state
echo @@recover-copy
${IMGBASE} base --pin Base-1-0 --json
echo @@persistence
killed_when '[ "$(grep -c imgbased-mnt /proc/mounts)" -ge 3 ]' ${image}
state
echo @@recover-persistence
${IMGBASE} base --unpin Base-1-0 --json
echo @@boot
killed_when '[ -e /boot/.Node-2-1+1.imgbased-new ] || [ -e /boot/Node-2-1+1 ]' ${image}
state
echo @@recover-boot
${IMGBASE} base --unpin Base-1-0 --json
echo @@after
state
echo @@trial
${IMGBASE} boot --trial-status --json
${CLOSE}`,
    );
    const s = sections(out);
    for (const kill of ['copy', 'persistence', 'boot']) {
      expect(s[kill]!.split('\n')[0], `${kill}: ${s[kill]}`).toBe('killed');
      // Something was left half-made, for recovery to find.
      expect(s[kill], kill).toContain('Node-2-1');
    }
    expect(s.copy).not.toContain('Node-2-1+1');
    expect(s.persistence).toMatch(/^[1-9]$/m);
    expect(JSON.parse(s['recover-copy']!).data).toMatchObject({ changed: true });
    // After every recovery, the host is as it was before the update began, with no trial armed (the
    // trial is armed only when the update commits).
    expect(s.after).toBe(s.before);
    expect(JSON.parse(s.trial!).data).toMatchObject({ protocol: 'extlinux-once', trial: null, layers: [] });
    for (const name of ['recover-copy', 'recover-persistence', 'recover-boot']) {
      expect(JSON.parse(s[name]!).data, name).toMatchObject({ dryRun: false });
    }

    const booted = await bootDisk({ disk, firmware: 'seabios' });
    expect(booted.proof, booted.console.slice(-3000)).toMatchObject({
      bootId: 'Base-1-0+1',
      rootDevice: '/dev/onn/Base-1-0+1',
      marker: 'Base-1-0+1',
    });
    expect(parseUpdateProof(booted.console)).toMatchObject({
      version: 'VERSION="4.5.5"',
      hostname: 'admin-edited.example.test',
    });
  }, 1_200_000);
});

// imgbase update from each image format, proven by booting: a thinp host disk with extlinux, the
// admin's changes in Base-1-0+1, then updates from an ext4 image (NVR from its os-release), a squashfs
// (--nvr), a liveimg (NVR from its file name) and an xz tar, in one VM run. Each new layer is read in
// that run. Each update boots its layer next as a trial ([trial] enabled, the default), superseding the
// one before; Base-1-0+1 stays the default. The last one is booted (extlinux's boot-once), and what it
// carries is read from the booted system. Then rollback ends the trial: the old layer boots, as it was;
// rollback --to an earlier update's layer, boot: that one.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootDisk } from '../src/index.ts';
import { IMGBASE, inVm } from './support/boot-scenario.ts';
import {
  buildUpdateImage,
  CLOSE,
  type ImageSet,
  OPEN,
  parseUpdateProof,
  prepareUpdateDisk,
} from './support/update-scenario.ts';

/** Prints, for a layer, what the booted system's proof would say (read from the mounted volume). */
const CHECK_LAYER = `check() {
  mount -o ro /dev/onn/$1 /mnt/l
  echo "CHECK $1 version: $(grep '^VERSION=' /mnt/l/etc/os-release)"
  echo "CHECK $1 motd: $(cat /mnt/l/etc/motd)"
  echo "CHECK $1 admin-new: $(cat /mnt/l/etc/admin-new.conf 2>/dev/null)"
  echo "CHECK $1 hostname: $(cat /mnt/l/etc/hostname)"
  echo "CHECK $1 deleted: $(test -e /mnt/l/etc/deleteme.conf && echo present || echo gone)"
  echo "CHECK $1 mode: $(stat -c %a /mnt/l/etc/modeme.conf)"
  echo "CHECK $1 alice: $(grep -c '^alice:' /mnt/l/etc/passwd /mnt/l/etc/shadow /mnt/l/etc/group /mnt/l/etc/gshadow | tr '\\n' ' ')"
  echo "CHECK $1 vendoruser: $(grep -c '^vendoruser:' /mnt/l/etc/passwd)"
  echo "CHECK $1 kernel: $(ls /mnt/l/boot | tr '\\n' ' ')"
  echo "CHECK $1 record: $(tr -d '\\n' < /mnt/l/var/lib/imgbased/last-update.json)"
  umount /mnt/l
}`;

function checks(out: string, layer: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const m of out.matchAll(new RegExp(`^CHECK ${layer.replace(/[+.]/g, '\\$&')} ([\\w-]+): ?(.*)$`, 'gm')))
    found[m[1]!] = m[2]!.trim();
  return found;
}

/** The `data` of each `--json` envelope printed after a `@@NAME` line. */
function envelopes(out: string): Record<string, { data?: Record<string, unknown>; error?: { code: string } }> {
  const found: Record<string, { data?: Record<string, unknown> }> = {};
  for (const part of out.split(/^@@/m).slice(1)) {
    const newline = part.indexOf('\n');
    const json = part.slice(newline + 1);
    found[part.slice(0, newline)] = JSON.parse(json.slice(0, json.lastIndexOf('}') + 1));
  }
  return found;
}

const CARRIED = {
  'admin-new': 'the admin wrote this',
  hostname: 'admin-edited.example.test',
  deleted: 'gone',
  mode: '600',
};

describe('imgbase update from every image format', () => {
  it('installs ext4, squashfs, liveimg and tar images with the admin’s state, boots the new layer, rolls back', async () => {
    const { disk, dir, setup } = await prepareUpdateDisk('update-formats');
    const images: ImageSet = {
      ext4: await buildUpdateImage(path.join(dir, 'node-image.ext4'), { nvr: 'Node-2.0-1', format: 'ext4' }),
      squashfs: await buildUpdateImage(path.join(dir, 'node-image.squashfs'), {
        nvr: 'Node-9.9-9',
        format: 'squashfs',
      }),
      liveimg: await buildUpdateImage(path.join(dir, 'Node-2.2-1.squashfs.img'), {
        nvr: 'Node-2.2-1',
        format: 'liveimg',
        nvrInOsRelease: false,
      }),
      tar: await buildUpdateImage(path.join(dir, 'node-image.tar.xz'), { nvr: 'Node-2.3-1', format: 'tar' }),
    };
    const update = (name: string, args: string) =>
      `echo @@${name}\n${IMGBASE} update --from Base-1-0+1 --keep 9 --json ${args}`;
    const out = await inVm(
      disk,
      `${setup}
${CHECK_LAYER}
${update('ext4', images.ext4)}
${update('squashfs', `--nvr Node-2.1-1 ${images.squashfs}`)}
${update('liveimg', images.liveimg)}
${update('tar', images.tar)}
echo @@layout
${IMGBASE} layout --json
for l in Node-2.0-1+1 Node-2.1-1+1 Node-2.2-1+1 Node-2.3-1+1; do check $l; done
${CLOSE}`,
    );
    const json = envelopes(out.slice(0, out.indexOf('CHECK ')));
    expect(json.ext4!.data).toMatchObject({ base: 'Node-2.0-1', image: { format: 'ext4', nvrFrom: 'os-release' } });
    expect(json.squashfs!.data).toMatchObject({ base: 'Node-2.1-1', image: { format: 'squashfs', nvrFrom: 'option' } });
    expect(json.liveimg!.data).toMatchObject({
      base: 'Node-2.2-1',
      image: { format: 'liveimg', nvrFrom: 'file-name' },
    });
    expect(json.tar!.data).toMatchObject({
      base: 'Node-2.3-1',
      layer: 'Node-2.3-1+1',
      image: { format: 'tar', nvrFrom: 'os-release' },
      from: { layer: 'Base-1-0+1', why: 'option' },
      bootsNext: 'Node-2.3-1+1',
      trial: true,
      gc: { removed: [] },
    });
    const carried = (json.tar!.data!.persistence as { copied: string[]; merged: string[]; deleted: string[] }[])[0]!;
    expect(carried.copied).toEqual(
      expect.arrayContaining(['/etc/admin-new.conf', '/etc/hostname', '/etc/modeme.conf']),
    );
    expect(carried.merged).toEqual(['/etc/group', '/etc/gshadow', '/etc/passwd', '/etc/shadow']);
    expect(carried.deleted).toEqual(['/etc/deleteme.conf']);
    const layout = json.layout!.data as {
      bases: { name: string; layers: { name: string; bootState: { state: string; reason: string | null } | null }[] }[];
    };
    expect(layout.bases.map((b) => b.name)).toEqual([
      'Base-1-0',
      'Node-2.0-1',
      'Node-2.1-1',
      'Node-2.2-1',
      'Node-2.3-1',
    ]);
    // Each update's trial superseded the one before; the last is on trial, the old layer the default.
    expect(layout.bases.flatMap((b) => b.layers.map((l) => [l.name, l.bootState?.state, l.bootState?.reason]))).toEqual(
      [
        ['Base-1-0+1', undefined, undefined],
        ['Node-2.0-1+1', 'failed', 'superseded by Node-2.1-1+1'],
        ['Node-2.1-1+1', 'failed', 'superseded by Node-2.2-1+1'],
        ['Node-2.2-1+1', 'failed', 'superseded by Node-2.3-1+1'],
        ['Node-2.3-1+1', 'trial', null],
      ],
    );

    for (const [layer, version] of [
      ['Node-2.0-1+1', '2.0-1'],
      ['Node-2.1-1+1', '9.9-9'],
      ['Node-2.2-1+1', '2.2-1'],
      ['Node-2.3-1+1', '2.3-1'],
    ] as const) {
      expect(checks(out, layer), layer).toMatchObject({
        ...CARRIED,
        version: `VERSION="${version}"`,
        alice: expect.stringMatching(/passwd:1 .*shadow:1 .*group:1 .*gshadow:1/),
        vendoruser: '1',
        kernel: expect.stringContaining('vmlinuz-'),
      });
      expect(checks(out, layer).motd, layer).toMatch(/^vendor motd of Node-/);
      // The update's record, for imgbase status once the layer runs.
      expect(JSON.parse(checks(out, layer).record!), layer).toMatchObject({
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        base: layer.slice(0, -2),
        layer,
        from: 'Base-1-0+1',
        image: { given: expect.stringContaining('/'), sha256: null },
        carryOver: [{ plugin: 'tar-diff', copied: expect.any(Number), merged: 4, deleted: 1, conflicts: 0 }],
        gcRemoved: [],
      });
    }

    // The trial layer boots (once: extlinux clears its boot-once before booting it), and says so itself.
    const first = await bootDisk({ disk, firmware: 'seabios' });
    expect(first.proof, first.console.slice(-3000)).toMatchObject({
      bootId: 'Node-2.3-1+1',
      rootDevice: '/dev/onn/Node-2.3-1+1',
      marker: 'Base-1-0+1',
    });
    expect(parseUpdateProof(first.console)).toEqual({
      version: 'VERSION="2.3-1"',
      nvr: 'IMAGE_NVR="Node-2.3-1"',
      motd: 'vendor motd of Node-2.3-1',
      ...CARRIED,
      'alice-passwd': 'alice:x:1001:1001::/home/alice:/bin/sh',
      'alice-shadow': 'alice:$6$salt$hash:19000:0:99999:7:::',
      'alice-group': 'alice:x:1001:',
      'alice-gshadow': 'alice:!::',
      vendoruser: 'vendoruser:x:990:990::/var/lib/vendor:/sbin/nologin',
    });

    // rollback while the trial runs: the trial ends (failed), the last good layer stays the default.
    const rolled = await inVm(disk, `${OPEN}\n${IMGBASE} rollback\n${IMGBASE} boot --get-default\n${CLOSE}`);
    expect(rolled).toBe('Base-1-0+1 boots next (instead of Node-2.3-1+1): reboot to use it\nBase-1-0+1\n');
    // The old layer: as the admin left it, untouched by the updates.
    const second = await bootDisk({ disk, firmware: 'seabios' });
    expect(second.proof, second.console.slice(-3000)).toMatchObject({
      bootId: 'Base-1-0+1',
      rootDevice: '/dev/onn/Base-1-0+1',
      marker: 'Base-1-0+1',
    });
    expect(parseUpdateProof(second.console)).toMatchObject({
      version: 'VERSION="4.5.5"',
      motd: 'fixture host',
      ...CARRIED,
      vendoruser: '',
    });

    // rollback --to an earlier update's layer: it boots by default.
    await inVm(disk, `${OPEN}\n${IMGBASE} rollback --to Node-2.2-1+1 >&2\n${CLOSE}`);
    const third = await bootDisk({ disk, firmware: 'seabios' });
    expect(third.proof, third.console.slice(-3000)).toMatchObject({ rootDevice: '/dev/onn/Node-2.2-1+1' });
    expect(parseUpdateProof(third.console)).toMatchObject({ version: 'VERSION="2.2-1"', nvr: '' });
  }, 1_500_000);
});

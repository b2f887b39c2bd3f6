// imgbase update's refusals and garbage collection on real LVM thin, in one VM run. Every refusal
// (wrong checksum, corrupt image, unknown format, an image larger than the free pool, an existing
// NVR, an unknown --from, not root) and a dry run leave `lvs` and every file of /boot byte for byte as
// they were. Then three updates, each booting its layer next as a trial ([trial] enabled, the default).
// The second runs from a layer (a chroot whose / is the layer's volume, so that imgbase finds its
// running layer as on a booted host) once that layer is marked good (as its check service would), and
// removes the oldest base with its layer, entry and /boot files (while the trial ran, GC kept it: the
// fallback); the third keeps the running layer's base and a pinned one.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/index.ts';
import { IMGBASE, inVm } from './support/boot-scenario.ts';
import { buildUpdateImage, CLOSE, FINGERPRINT, prepareUpdateDisk } from './support/update-scenario.ts';

/** The system's directories and the checkout's top one (/work here, anywhere in CI), bound into the chroot. */
const BOUND_INTO_LAYER = [
  ...new Set([
    'usr',
    'bin',
    'sbin',
    'lib',
    'lib64',
    'etc',
    'dev',
    'proc',
    'sys',
    'run',
    'tmp',
    'boot',
    repoRoot.split('/')[1],
  ]),
].join(' ');

/** `enter LAYER`: mounts LAYER with the host's tree bound over it; `onlayer CMD…` runs there; `leave`. */
const RUN_FROM_LAYER = `enter() {
  mkdir -p /mnt/run && mount /dev/onn/$1 /mnt/run
  for d in ${BOUND_INTO_LAYER}; do
    [ -e /$d ] || continue
    mkdir -p /mnt/run/$d
    mount --rbind /$d /mnt/run/$d
  done
}
onlayer() { chroot /mnt/run "$@"; }
leave() { umount -R /mnt/run; }`;

/** Each `@@NAME` line followed by what the command printed, up to the next marker. */
function sections(out: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const part of out.split(/^@@/m).slice(1)) {
    const newline = part.indexOf('\n');
    found[part.slice(0, newline)] = part.slice(newline + 1);
  }
  return found;
}

const errorCode = (text: string | undefined) => (JSON.parse(text ?? '{}') as { error?: { code: string } }).error?.code;

describe('imgbase update refuses without changing anything, and collects garbage', () => {
  it('refuses each bad update byte for byte, then removes the oldest base and keeps the running and pinned ones', async () => {
    const { disk, dir, setup } = await prepareUpdateDisk('update-gc');
    const image = (nvr: string) => buildUpdateImage(path.join(dir, `${nvr}.img`), { nvr, format: 'ext4' });
    const [v2, v3, v4] = [await image('Node-2-1'), await image('Node-3-1'), await image('Node-4-1')];
    const refusals: [string, string][] = [
      ['checksum', `--sha256 ${'0'.repeat(64)} ${v2}`],
      ['corrupt', '/tmp/corrupt.img'],
      ['unknown', '/tmp/random.img'],
      ['nospace', '/tmp/big.img'],
      ['exists', `--nvr Base-1-0 ${v2}`],
      ['from', `--from Base-1-0+7 ${v2}`],
    ];
    const out = await inVm(
      disk,
      `${setup}
${RUN_FROM_LAYER}
head -c 20000000 ${v2} > /tmp/corrupt.img
head -c 1048576 /dev/urandom > /tmp/random.img
truncate -s 8G /tmp/big.img && mkfs.ext4 -q -N 64 -E lazy_itable_init=1,lazy_journal_init=1 /tmp/big.img && mkdir -p /mnt/big
mount -o loop /tmp/big.img /mnt/big && fallocate -l 7G /mnt/big/fill && mkdir /mnt/big/etc
echo 'IMAGE_NVR=Node-9-1' > /mnt/big/etc/os-release && umount /mnt/big
echo @@before
${FINGERPRINT}
${refusals.map(([name, args]) => `echo @@${name}\n${IMGBASE} update --json ${args} || true\necho @@${name}-after\n${FINGERPRINT}`).join('\n')}
echo @@notroot
setpriv --reuid=65534 --regid=65534 --clear-groups ${IMGBASE} update --json ${v2} || true
echo @@notroot-after
${FINGERPRINT}
echo @@dryrun
${IMGBASE} update --dry-run ${v2}
echo @@dryrun-after
${FINGERPRINT}
echo @@second
${IMGBASE} update --json ${v2}
enter Node-2-1+1
echo @@markgood
onlayer ${IMGBASE} boot --mark-good
echo @@third
onlayer ${IMGBASE} update --json ${v3}
echo @@third-after
lvm lvs --noheadings -o lv_name onn | sort
ls /boot
cat /boot/extlinux/extlinux.conf
echo @@pin
onlayer ${IMGBASE} base --pin Node-3-1
onlayer ${IMGBASE} layout
echo @@fourth
onlayer ${IMGBASE} update --json ${v4}
leave
echo @@end
lvm lvs --noheadings -o lv_name onn | sort
${CLOSE}`,
    );
    const s = sections(out);
    const before = s.before!;
    expect(before).toContain('Base-1-0+1');
    expect(before).toContain('/boot/Base-1-0+1/vmlinuz-');

    const codes = Object.fromEntries([...refusals.map(([n]) => n), 'notroot'].map((n) => [n, errorCode(s[n])]));
    expect(codes).toEqual({
      checksum: 'E_IMAGE_CHECKSUM',
      corrupt: 'E_IMAGE_INVALID',
      unknown: 'E_IMAGE_FORMAT_UNKNOWN',
      nospace: 'E_NO_SPACE',
      exists: 'E_BASE_EXISTS',
      from: 'E_LAYER_NOT_FOUND',
      notroot: 'E_NOT_ROOT',
    });
    expect(JSON.parse(s.nospace!).error.details).toMatchObject({ space: 'pool-data', where: 'onn/pool00' });
    for (const name of [...refusals.map(([n]) => n), 'notroot', 'dryrun'])
      expect(s[`${name}-after`], name).toBe(before);

    expect(s.dryrun).toContain('Dry run: nothing was changed.\n');
    expect(s.dryrun).toMatch(/ {2}onn\/pool00 data: needs \d+ MiB, \d+ MiB free\n/);
    expect(s.dryrun).toContain('lvm lvcreate --yes --type thin');
    expect(s.dryrun).toContain('Garbage collection (keep 2) would remove: nothing\n');

    const second = JSON.parse(s.second!).data;
    expect(second).toMatchObject({
      base: 'Node-2-1',
      from: { layer: 'Base-1-0+1', why: 'newest' },
      gc: { removed: [] },
      bootsNext: 'Node-2-1+1',
      trial: true,
    });
    // What imgbased-boot-check.service does once the trial layer's checks pass.
    expect(s.markgood).toBe('Node-2-1+1 is marked good: it boots by default (extlinux)\n');

    // Run from Node-2-1+1: the oldest base goes, with its layer, entry and /boot files.
    const third = JSON.parse(s.third!).data;
    expect(third).toMatchObject({
      base: 'Node-3-1',
      from: { layer: 'Node-2-1+1', why: 'running' },
      gc: { keep: 2, removed: [{ base: 'Base-1-0', layers: ['Base-1-0+1'] }], kept: ['Node-2-1', 'Node-3-1'] },
      removed: ['Base-1-0+1', 'Base-1-0'],
      boot: { removed: ['imgbased-Base-1-0-layer1'] },
    });
    const [lvs, rest] = [s['third-after']!.split('\n/boot')[0]!, s['third-after']!];
    expect(lvs).not.toContain('Base-1-0');
    expect(rest).not.toMatch(/^Base-1-0\+1$/m);
    expect(rest).not.toContain('img.bootid=Base-1-0+1');
    expect(rest).toContain('img.bootid=Node-3-1+1');
    expect(rest).toMatch(/^Node-2-1\+1$/m);
    // The trial of Node-3-1+1 falls back on Node-2-1+1, the default since it was marked good.
    expect(rest).toMatch(/^DEFAULT imgbased-Node-2-1-layer1$/m);

    expect(s.pin).toContain('Node-3-1 is now pinned: garbage collection keeps it\n');
    expect(s.pin).toContain('Node-3-1 (pinned)\n');
    // Running from Node-2-1, Node-3-1 pinned: three bases stay with --keep 2.
    const fourth = JSON.parse(s.fourth!).data;
    expect(fourth).toMatchObject({
      base: 'Node-4-1',
      from: { layer: 'Node-2-1+1', why: 'running' },
      gc: { removed: [], kept: ['Node-2-1', 'Node-3-1', 'Node-4-1'] },
    });
    expect(
      s
        .end!.split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('Node-')),
    ).toEqual(['Node-2-1', 'Node-2-1+1', 'Node-3-1', 'Node-3-1+1', 'Node-4-1', 'Node-4-1+1']);
  }, 1_200_000);
});

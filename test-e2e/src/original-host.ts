// A host in the state the original oVirt imgbased (1.2.x) leaves an oVirt Node in, written from the
// facts of its layout (docs: issue 17, shared/reference/imgbased-seed-inventory.md), not from its code:
// `layout --init` and one update, with its oVirt Node OS integration. Checked by hand against the
// real original (see tests/original-host.e2e.test.ts).
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { buildThinpHostDisk } from './fixtures.ts';
import { cacheDir, makeScratchDir } from './paths.ts';
import { buildOnce, fileExists, removeStaleSiblings, sha256, which } from './util.ts';
import { runInVm } from './vm.ts';

export const ORIGINAL_VG = 'onn';
/** The base `layout --init` made: tagged imgbased:layer, writable, active, activation skip. */
export const ORIGINAL_FIRST_BASE = 'ovirt-node-ng-4.5.5-0.20231130.0';
/** The base an update made (`base --add`): tagged imgbased:base, read-only, inactive. */
export const ORIGINAL_SECOND_BASE = 'ovirt-node-ng-4.5.6-0.20240601.0';
export const ORIGINAL_KERNEL = '5.14.0-388.el9.x86_64';
/** Separate volumes (tag imgbased:volume) by name, with the original's sizes. */
export const ORIGINAL_VOLUMES: Readonly<Record<string, string>> = {
  var: '5G',
  var_crash: '10G',
  var_log: '8G',
  var_log_audit: '2G',
  var_tmp: '10G',
  home: '1G',
  tmp: '1G',
};
/** The LVM profile the original gives the thin pool, and where its package installs it. */
export const ORIGINAL_POOL_PROFILE = 'imgbased-pool';
export const POOL_PROFILE_TEXT =
  'activation {\n\tthin_pool_autoextend_threshold = 70\n\tthin_pool_autoextend_percent = 20\n}\n';
/** Shell: puts the profile where the running system has it (the test VM's /etc is a fresh overlay). */
export const INSTALL_POOL_PROFILE = `mkdir -p /etc/lvm/profile && printf '${POOL_PROFILE_TEXT.replace(/\n/g, '\\n').replace(/\t/g, '\\t')}' > /etc/lvm/profile/${ORIGINAL_POOL_PROFILE}.profile`;

/** `<layer>-<kver>.conf` under /boot/loader/entries, as the original names its BLS files. */
export function originalEntryFile(layer: string): string {
  return `${layer}-${ORIGINAL_KERNEL}.conf`;
}

/**
 * Runs in the guest with a thinp host disk as /dev/vda: each step as the original's facts say. A
 * base's layer is a thin snapshot activated ignoring activation skip, with a file system UUID of its
 * own; the title of an entry is the image's NVR and kernel version, its kernel and initrd live in
 * /boot/<layer>/ (the kernel also in /boot itself), the default is the entry's title in grubenv.
 */
const ORIGINAL_HOST_SCRIPT = `set -eu
grep -q 'e2e.watchdog=' /proc/cmdline || { echo 'refusing: not inside the test VM' >&2; exit 99; }
vg=${ORIGINAL_VG} first=${ORIGINAL_FIRST_BASE} second=${ORIGINAL_SECOND_BASE} kver=${ORIGINAL_KERNEL}
lvm() { command lvm "$@" >&2; }
${INSTALL_POOL_PROFILE}
lvm vgchange -ay $vg
lvm vgchange --addtag imgbased:vg $vg
lvm lvchange --addtag imgbased:pool $vg/pool00
lvm lvchange --addtag imgbased:init $vg/root
# Pool metadata grown to 1 GiB (the original does so at each new layer when the group has room).
lvm lvextend --poolmetadatasize 1G $vg/pool00
newuuid() { e2fsck -fy "$1" >/dev/null 2>&1 || true; tune2fs -U random "$1" >/dev/null; }
layer_of() { # BASE NAME: a writable, active thin snapshot tagged imgbased:layer
  lvm lvcreate -s -n "$2" $vg/"$1"
  lvm lvchange -ay -K $vg/"$2"
  lvm lvchange --addtag imgbased:layer $vg/"$2"
  newuuid /dev/$vg/"$2"
  lvm lvchange --setactivationskip n $vg/"$2"
}
# layout --init: the first base is a snapshot of root tagged imgbased:layer, writable and active.
layer_of root $first
lvm lvchange --setactivationskip y $vg/$first
layer_of $first $first+1
# The OS integration on oVirt Node: the pool's profile, root protected, separate volumes.
lvm lvchange --metadataprofile ${ORIGINAL_POOL_PROFILE} $vg/pool00
lvm lvchange -pr $vg/root
lvm lvchange --setactivationskip y $vg/root
lvm lvchange -an $vg/root
mkdir -p /mnt/l
mount /dev/$vg/$first+1 /mnt/l
mkdir -p /mnt/l/etc/lvm/profile /mnt/l/etc/systemd/system
cp /etc/lvm/profile/${ORIGINAL_POOL_PROFILE}.profile /mnt/l/etc/lvm/profile/
${Object.entries(ORIGINAL_VOLUMES)
  .map(([name, size]) => {
    const where = `/${name.replaceAll('_', '/')}`;
    const unit = `${where.slice(1).replaceAll('/', '-')}.mount`;
    return `lvm lvcreate --thin -V ${size} -n ${name} $vg/pool00
lvm lvchange --addtag imgbased:volume $vg/${name}
mkfs.ext4 -q -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 /dev/$vg/${name}
printf '[Mount]\\nWhat=/dev/mapper/${ORIGINAL_VG}-${name}\\nWhere=${where}\\nOptions=discard\\nSloppyOptions=yes\\n\\n[Install]\\nWantedBy=local-fs.target\\n' > /mnt/l/etc/systemd/system/${unit}`;
  })
  .join('\n')}
# An update: a new base filled from an image, protected, and its first layer.
lvm lvcreate --thin -V 1G -n $second $vg/pool00
lvm lvchange --addtag imgbased:base $vg/$second
mkdir -p /mnt/tree && cp -a /mnt/l/. /mnt/tree/
sed -i 's/4\\.5\\.5/4.5.6/g' /mnt/tree/etc/os-release
mkfs.ext4 -q -E nodiscard -d /mnt/tree /dev/$vg/$second
umount /mnt/l
lvm lvchange -pr $vg/$second
lvm lvchange --setactivationskip y $vg/$second
lvm lvchange -an $vg/$second
layer_of $second $second+1
mount /dev/$vg/var /mnt/l && mkdir -p /mnt/l/imgbased && touch /mnt/l/imgbased/.image-updated && umount /mnt/l
# /boot: grub with blscfg, each layer's kernel in /boot/<layer>/, one BLS entry each (grubby's keys).
mkdir -p /boot && mount /dev/vda1 /boot
mkdir -p /boot/grub2 /boot/loader/entries
printf 'load_env\\ninsmod blscfg\\nblscfg\\n' > /boot/grub2/grub.cfg
uuid=$(blkid -s UUID -o value /dev/vda1)
printf 'kernel %s\\n' $kver > /boot/vmlinuz-$kver
for layer in $first+1 $second+1; do
  nvr=\${layer%+*}
  mkdir -p /boot/$layer
  printf 'kernel %s for %s\\n' $kver $layer > /boot/$layer/vmlinuz-$kver
  printf 'initramfs %s for %s\\n' $kver $layer > /boot/$layer/initramfs-$kver.img
  printf 'title %s (%s)\\nversion %s\\nlinux /%s/vmlinuz-%s\\ninitrd /%s/initramfs-%s.img\\noptions crashkernel=auto rhgb quiet rd.lvm.lv=%s/%s root=/dev/%s/%s boot=UUID=%s rootflags=discard img.bootid=%s\\ngrub_users $grub_users\\ngrub_arg --unrestricted\\ngrub_class kernel\\n' \\
    "$nvr" $kver $kver $layer $kver $layer $kver $vg $layer $vg $layer $uuid $layer > /boot/loader/entries/$layer-$kver.conf
done
grub-editenv /boot/grub2/grubenv create
grub-editenv /boot/grub2/grubenv set "saved_entry=$second ($kver)"
umount /boot
lvm vgchange -an $vg
sync
`;

/** Bump when the script's result changes in a way the key does not see. */
const FORMAT = '1';

/**
 * A disk in the state the original leaves an oVirt Node host in (see ORIGINAL_HOST_SCRIPT): the thinp
 * host disk with the first base from `layout --init` and its layer, a second base from an update and
 * its layer, root protected, the separate volumes, the pool profile and 1 GiB metadata, grub with
 * blscfg and the original's BLS entries and kernels on /boot. The VG is left inactive; tests put the
 * pool profile in place first (INSTALL_POOL_PROFILE), as the running system has it. Built once in a
 * VM and cached; each call copies the template.
 */
export async function buildOriginalHostDisk(target: string): Promise<string> {
  const key = sha256(FORMAT, ORIGINAL_HOST_SCRIPT).slice(0, 12);
  const template = path.join(cacheDir, `original-host-${key}.img`);
  await buildOnce(
    `${template}.lock`,
    () => fileExists(template),
    async () => {
      const scratch = await makeScratchDir('original-host');
      try {
        const disk = (await buildThinpHostDisk(path.join(scratch, 'disk.img'))).path;
        const result = await runInVm({
          command: ['sh', '-c', ORIGINAL_HOST_SCRIPT],
          disks: [{ path: disk }],
          timeoutMs: 240_000,
        });
        if (result.exitCode !== 0) {
          throw new Error(`buildOriginalHostDisk: exit ${result.exitCode}:\n${result.stderr}\n${result.consoleTail}`);
        }
        await rename(disk, template); // same file system, so atomic
        await removeStaleSiblings(template, 'original-host-');
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  );
  await rm(target, { force: true });
  await execa(await which('cp'), ['--sparse=always', template, target]);
  return target;
}

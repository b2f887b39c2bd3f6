// What both packages say about themselves: name, version, dependencies (by each distribution's names).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const versionOf = (app) => JSON.parse(readFileSync(path.join(repoRoot, 'apps', app, 'package.json'), 'utf8')).version;

/** `imgbase --version` and `imgbased --version` print their package's version: one fixed changeset group. */
export function packageVersion() {
  const cli = versionOf('cli');
  const daemon = versionOf('daemon');
  if (cli !== daemon) throw new Error(`@imgbased/cli is ${cli} but @imgbased/daemon is ${daemon}: they must agree`);
  return cli;
}

export const NAME = 'imgbased';
export const MAINTAINER = 'imgbased maintainers <maintainers@users.noreply.r-seed-23fef6a5.example>';
export const SUMMARY = 'image-based host management on LVM thin (imgbase, imgbased)';
export const DESCRIPTION = [
  'A host managed by imgbased runs from a layer: a writable LVM thin snapshot',
  'of a read-only base, an OS image. Every layer gets a boot entry (extlinux,',
  'grub or systemd-boot); installing a new image makes a new base and layer and',
  'carries the admin’s changes over; rolling back is booting an earlier layer.',
  'This package holds the command line (imgbase), the daemon (imgbased, socket',
  'activated, a local API on a Unix socket) and the plugins shipped with them.',
];

/**
 * Dependencies, by distribution. The engine drives LVM (lvm2, thin tools), ext4 (e2fsprogs),
 * util-linux (mount, findmnt, logger --journald for the daemon's journal entries); the shipped
 * persistence plugins tar (tar-diff, the default) and rsync; images in squashfs or zstd need their tools.
 */
export const DEPENDENCIES = {
  deb: {
    depends: [
      'nodejs (>= 20.19)',
      'lvm2',
      'thin-provisioning-tools',
      'e2fsprogs',
      'util-linux (>= 2.38)',
      'mount',
      'bsdutils (>= 1:2.38)',
      'tar (>= 1.34)',
    ],
    recommends: ['rsync', 'squashfs-tools', 'zstd', 'systemd'],
    suggests: ['grub-common | systemd-boot | extlinux'],
  },
  rpm: {
    // Fedora's and RHEL's nodejs carry an epoch (1:); NodeSource's a higher one.
    requires: [
      'nodejs >= 1:20.19',
      'lvm2',
      'device-mapper-persistent-data',
      'e2fsprogs',
      'util-linux >= 2.38',
      'tar >= 1.34',
    ],
    recommends: ['rsync', 'squashfs-tools', 'zstd', 'systemd'],
    // grub2-editenv (grub2-tools), bootctl (systemd-boot-unsigned), extlinux (syslinux-extlinux).
    suggests: ['grub2-tools', 'systemd-boot-unsigned', 'syslinux-extlinux'],
  },
};

/**
 * @packageDocumentation
 * imgbased's FilesystemDriver for ext4, on e2fsprogs (mkfs.ext4, e2fsck, tune2fs, resize2fs) and
 * util-linux (blkid, mount, umount, fstrim).
 */

export { Ext4Driver, parseBlkidExport } from './ext4-driver.js';
export { MOUNT_DIR_PREFIX } from './leftover-mounts.js';

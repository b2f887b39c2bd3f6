import extlinux from '@imgbased/bootloader-extlinux';
import grubBls from '@imgbased/bootloader-grub-bls';
import systemdBoot from '@imgbased/bootloader-systemd-boot';
import type { PluginDefinition } from '@imgbased/core';
import rsync from '@imgbased/persistence-rsync';
import tarDiff from '@imgbased/persistence-tar-diff';

/**
 * The plugins this build of imgbased ships: the packager's choice, one line per plugin (and its
 * dependency in package.json). The configuration picks among them at run time (`[bootloader] plugins`,
 * `[persistence] plugins`); plugins that did not ship are loaded from `[core] plugin_dir` by name.
 */
export const SHIPPED_PLUGINS: readonly PluginDefinition[] = [extlinux, grubBls, systemdBoot, tarDiff, rsync];

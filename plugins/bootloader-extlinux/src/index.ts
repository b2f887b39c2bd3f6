import { defineBootloaderPlugin, PLUGIN_CONTRACT_VERSIONS } from '@imgbased/core';
import { createExtlinux } from './extlinux.js';

/** extlinux (syslinux): `<boot_dir>/extlinux/extlinux.conf`. No settings of its own. */
export const extlinuxPlugin = defineBootloaderPlugin({
  name: 'extlinux',
  contractVersion: PLUGIN_CONTRACT_VERSIONS.bootloader,
  probeOrder: 10,
  description: 'extlinux (syslinux): LABEL blocks in <boot_dir>/extlinux/extlinux.conf',
  create: createExtlinux,
});

export default extlinuxPlugin;

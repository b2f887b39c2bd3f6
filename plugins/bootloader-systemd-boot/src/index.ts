import { defineBootloaderPlugin, PLUGIN_CONTRACT_VERSIONS } from '@imgbased/core';
import { systemdBootSettings } from './settings.js';
import { createSystemdBoot } from './systemd-boot.js';

export type { SystemdBootSettings } from './settings.js';

/** systemd-boot: BLS entries on the ESP; settings in `[bootloader.systemd-boot]`. */
export const systemdBootPlugin = defineBootloaderPlugin({
  name: 'systemd-boot',
  contractVersion: PLUGIN_CONTRACT_VERSIONS.bootloader,
  probeOrder: 30,
  description: 'systemd-boot: BLS entries and loader.conf on the ESP, one-shot through bootctl',
  settings: systemdBootSettings,
  create: createSystemdBoot,
});

export default systemdBootPlugin;

import { defineBootloaderPlugin, PLUGIN_CONTRACT_VERSIONS } from '@imgbased/core';
import { createGrubBls } from './grub-bls.js';
import { grubBlsSettings } from './settings.js';

export type { GrubBlsSettings } from './settings.js';

/** grub 2: BLS entries (`blscfg`) or a menu file grub.cfg sources; settings in `[bootloader.grub-bls]`. */
export const grubBlsPlugin = defineBootloaderPlugin({
  name: 'grub-bls',
  contractVersion: PLUGIN_CONTRACT_VERSIONS.bootloader,
  probeOrder: 20,
  description: 'grub 2: BLS entries (blscfg) or <grub dir>/imgbased.cfg, default and one-shot in grubenv',
  settings: grubBlsSettings,
  create: createGrubBls,
});

export default grubBlsPlugin;

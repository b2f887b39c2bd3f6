import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBootloaderContract } from '@imgbased/testkit';
import extlinuxPlugin from '../src/index.js';

// Every guarantee of the bootloader contract, on real files in a temporary /boot.
describeBootloaderContract('extlinux', () => ({
  definition: extlinuxPlugin,
  async prepare(root) {
    await mkdir(join(root, 'extlinux'));
    await writeFile(join(root, 'extlinux/extlinux.conf'), '# installed by the distribution\nPROMPT 0\nTIMEOUT 50\n');
  },
  async corrupt(root) {
    // A LABEL that boots nothing: syslinux would show a dead entry.
    await appendFile(join(root, 'extlinux/extlinux.conf'), '\nLABEL empty\n  MENU LABEL Nothing to boot\n');
  },
  foreignEntry: {
    id: 'rescue',
    async add(root) {
      await mkdir(join(root, 'rescue'));
      await writeFile(join(root, 'rescue/vmlinuz'), 'rescue kernel\n');
      const block = '\nLABEL rescue\n  MENU LABEL Rescue system\n  KERNEL /rescue/vmlinuz\n  APPEND ro single\n';
      await appendFile(join(root, 'extlinux/extlinux.conf'), block);
    },
  },
}));

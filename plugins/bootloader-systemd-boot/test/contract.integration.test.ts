import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBootloaderContract } from '@imgbased/testkit';
import systemdBootPlugin from '../src/index.js';

// Every guarantee of the bootloader contract, on real files in a temporary ESP. The one-shot needs a
// loader booted with UEFI (LoaderInfo): proven by booting, in test-e2e/tests/boot-systemd-boot.e2e.test.ts.
describeBootloaderContract('systemd-boot', ({ root }) => ({
  definition: systemdBootPlugin,
  settings: { esp_dir: root },
  oneShot: 'skip',
  async prepare(esp) {
    await mkdir(join(esp, 'loader/entries'), { recursive: true });
    await writeFile(join(esp, 'loader/loader.conf'), 'timeout 3\n');
  },
  async corrupt(esp) {
    await writeFile(join(esp, 'loader/entries/broken.conf'), 'title \u0000\u0001 binary\n');
  },
  foreignEntry: {
    id: 'rescue',
    async add(esp) {
      await mkdir(join(esp, 'rescue'));
      await writeFile(join(esp, 'rescue/vmlinuz'), 'rescue kernel\n');
      await writeFile(
        join(esp, 'loader/entries/rescue.conf'),
        'title Rescue\nversion 6.1.0\nlinux /rescue/vmlinuz\noptions ro single\n',
      );
    },
  },
}));

// The bootloader contract suite of @imgbased/testkit, run on this plugin from outside imgbased's
// workspace: every guarantee the host relies on, against real files in temporary directories.
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBootloaderContract } from '@imgbased/testkit';
import minimalExtlinux from './index.mjs';

const conf = (root: string) => join(root, 'extlinux/extlinux.conf');

async function append(root: string, text: string): Promise<void> {
  const before = await readFile(conf(root), 'utf8').catch(() => '');
  await writeFile(conf(root), `${before}${before === '' || before.endsWith('\n') ? '' : '\n'}${text}`);
}

describeBootloaderContract('minimal-extlinux', () => ({
  definition: minimalExtlinux,
  settings: { menu_title: 'Contract test' },
  // What `extlinux --install /boot/extlinux` leaves: the boot loader's own file, no configuration yet.
  async prepare(root) {
    await mkdir(join(root, 'extlinux'), { recursive: true });
    await writeFile(join(root, 'extlinux/ldlinux.sys'), 'syslinux');
  },
  // A block that boots nothing: extlinux would skip it; the plugin must refuse to rewrite the file.
  corrupt: (root) => appendFile(conf(root), '\nLABEL broken\n\tAPPEND quiet\n'),
  foreignEntry: {
    id: 'rescue',
    async add(root) {
      await writeFile(join(root, 'vmlinuz-rescue'), 'rescue kernel');
      await append(
        root,
        'LABEL rescue\n  MENU LABEL Rescue system\n  KERNEL /vmlinuz-rescue\n  APPEND root=/dev/sda2 ro\n',
      );
    },
  },
}));

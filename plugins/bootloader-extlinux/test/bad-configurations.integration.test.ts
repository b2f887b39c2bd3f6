import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BadBootConfiguration, itRefusesBadBootConfigurations } from '@imgbased/testkit';
import { describe } from 'vitest';
import extlinuxPlugin from '../src/index.js';

// Issue 14's "Bad input, counted": extlinux.conf edited by hand with garbage in it.
const conf = (root: string) => join(root, 'extlinux/extlinux.conf');
const edit = (change: (text: string) => string) => async (root: string) =>
  writeFile(conf(root), change(await readFile(conf(root), 'utf8')));
const append = (text: string | Uint8Array) => async (root: string) => appendFile(conf(root), text);

const CASES: readonly BadBootConfiguration[] = [
  { name: 'random bytes', garble: async (root) => writeFile(conf(root), Buffer.from([0x8f, 0xff, 0x00, 0x13, 0xfe])) },
  { name: 'a NUL byte appended', garble: append(new Uint8Array([0])) },
  {
    name: 'invalid UTF-8 in a MENU LABEL',
    garble: append(Buffer.from([0x4d, 0x45, 0x4e, 0x55, 0x20, 0xc3, 0x28, 0x0a])),
  },
  { name: 'a LABEL that boots nothing', garble: append('\nLABEL empty\n  MENU LABEL Nothing\n') },
  { name: 'a LABEL without a name', garble: append('\nLABEL\n  KERNEL /x\n') },
  { name: 'a line that is not a directive', garble: append('\n{ "json": true }\n') },
  { name: 'a line of punctuation', garble: append('\n= = =\n') },
  { name: 'a LABEL of blanks', garble: append('\nLABEL \t \n  KERNEL /x\n') },
  { name: 'cut in the middle of a LABEL block', garble: edit((t) => `${t.slice(0, t.lastIndexOf('LABEL') + 3)}\n`) },
  {
    name: 'the configuration is a directory',
    garble: async (root) => {
      await rm(conf(root));
      await mkdir(conf(root));
    },
    // Read as a file, it fails as I/O: core's typed error for the boot partition's files.
    code: 'E_BOOT_WRITE_FAILED',
  },
  { name: 'binary after the last LABEL', garble: append(Buffer.from([0x0a, 0x01, 0x02, 0xff, 0x0a])) },
];

describe('bad input: boot configurations', () => {
  itRefusesBadBootConfigurations(
    'extlinux',
    () => ({
      definition: extlinuxPlugin,
      // No ldlinux.sys here: the one-shot is refused as unsupported before the file is read.
      oneShot: 'skip' as const,
      async prepare(root: string) {
        await mkdir(join(root, 'extlinux'));
        await writeFile(conf(root), '# installed by the distribution\nPROMPT 0\nTIMEOUT 50\n');
      },
      async corrupt() {},
    }),
    CASES,
  );
});

import { appendFile, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BadBootConfiguration, itRefusesBadBootConfigurations } from '@imgbased/testkit';
import { describe } from 'vitest';
import systemdBootPlugin from '../src/index.js';

// Issue 14's "Bad input, counted": loader.conf and the BLS entries of the ESP edited by hand with garbage.
const loaderConf = (esp: string) => join(esp, 'loader/loader.conf');
const entries = (esp: string) => join(esp, 'loader/entries');
const firstEntry = async (esp: string) =>
  join(entries(esp), (await readdir(entries(esp))).filter((n) => n.endsWith('.conf')).sort()[0]!);
const editEntry = (change: (text: string) => string) => async (esp: string) => {
  const path = await firstEntry(esp);
  await writeFile(path, change(await readFile(path, 'utf8')));
};

const CASES: readonly BadBootConfiguration[] = [
  { name: 'binary in loader.conf', garble: async (esp) => appendFile(loaderConf(esp), new Uint8Array([0, 1, 2])) },
  {
    name: 'invalid UTF-8 in loader.conf',
    garble: async (esp) => appendFile(loaderConf(esp), Buffer.from([0xc3, 0x28])),
  },
  { name: 'a loader.conf line that is not key value', garble: async (esp) => appendFile(loaderConf(esp), '\n= 3\n') },
  { name: 'JSON in loader.conf', garble: async (esp) => appendFile(loaderConf(esp), '\n{"timeout": 3}\n') },
  { name: 'binary in an entry', garble: editEntry((t) => `${t}\u0000\n`) },
  { name: 'an entry without linux', garble: editEntry((t) => t.replace(/^linux .*$/m, '')) },
  { name: 'an entry cut to nothing', garble: async (esp) => truncate(await firstEntry(esp), 0) },
  { name: 'a line that is not key value', garble: editEntry((t) => `${t}-- broken\n`) },
  {
    name: 'random bytes in an entry',
    garble: async (esp) => writeFile(await firstEntry(esp), Buffer.from([0xff, 0, 0x41])),
  },
  {
    name: 'a foreign entry file of garbage',
    garble: async (esp) => writeFile(join(entries(esp), 'other.conf'), 'title \u0001\u0000\n'),
  },
  {
    name: 'an entry file that is a directory',
    garble: async (esp) => {
      const path = await firstEntry(esp);
      await rm(path);
      await mkdir(path);
    },
    code: 'E_BOOT_WRITE_FAILED',
  },
];

describe('bad input: boot configurations', () => {
  itRefusesBadBootConfigurations(
    'systemd-boot',
    ({ root }) => ({
      definition: systemdBootPlugin,
      settings: { esp_dir: root },
      oneShot: 'skip' as const,
      async prepare(esp: string) {
        await mkdir(join(esp, 'loader/entries'), { recursive: true });
        await writeFile(loaderConf(esp), 'timeout 3\n');
      },
      async corrupt() {},
    }),
    CASES,
  );
});

// Issue 14's "Bad input, counted", images: each bad image is refused by inspect (which runs before any
// volume is made) with a typed error, the image unchanged and no mount left behind.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ext4Driver } from '@imgbased/fs-ext4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OsImageInstaller } from '../src/index.js';
import { BAD_IMAGE_CASES } from './bad-image.corpus.js';
import { contentHash, leftoverMounts, runner } from './fixtures.js';

const installer = new OsImageInstaller(runner, new Ext4Driver(runner));
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-bad-image-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function fingerprint(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return String(info?.mode);
  return `${info.size} ${info.mtimeMs} ${await contentHash(path)}`;
}

describe('bad input: images', () => {
  it(`refuses each of its ${BAD_IMAGE_CASES.length} cases with a typed error, the image unchanged`, async () => {
    const wrong = [];
    for (const c of BAD_IMAGE_CASES) {
      const path = await c.make(work);
      const before = await fingerprint(path);
      const error = await installer.inspect(path, { format: c.format, nvr: c.nvr, fileName: 'image' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const code = (error as { code?: string } | undefined)?.code;
      const message = error instanceof Error ? error.message : String(error);
      const changed = (await fingerprint(path)) !== before;
      const mounts = await leftoverMounts();
      if (code !== c.code || changed || mounts.length > 0 || message.includes('\n'))
        wrong.push({ case: c.name, code, message: message.slice(0, 300), changed, mounts });
    }
    expect(wrong).toEqual([]);
    console.log(`bad input: images: ${BAD_IMAGE_CASES.length} cases`);
  }, 300_000);
});

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent } from '@imgbased/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestHttpServer } from './testing/http-server.js';
import { UrlOrFileImageSource } from './url-or-file-image-source.js';

const body = randomBytes(300_000);
const sha256 = createHash('sha256').update(body).digest('hex');
const wrong = 'f'.repeat(64);
const source = new UrlOrFileImageSource();
let server: TestHttpServer;
let dir: string;
let downloads: string;

beforeAll(async () => {
  server = await TestHttpServer.start();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imgbased-source-'));
  downloads = join(dir, 'downloads');
});
afterEach(async () => {
  server.files.clear();
  await rm(dir, { recursive: true, force: true });
});

async function localImage(name = 'Node-1-0.img'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, body);
  return path;
}

describe('UrlOrFileImageSource, local files', () => {
  it('uses a file where it is, unchecked when no sum is given or found', async () => {
    const path = await localImage();
    expect(await source.resolve(path, { downloadDirectory: downloads })).toEqual({ path, fileName: 'Node-1-0.img' });
  });

  it('checks --sha256 (any case), with checksum progress', async () => {
    const path = await localImage();
    const events: EngineEvent[] = [];
    const resolved = await source.resolve(
      path,
      { downloadDirectory: downloads, sha256: sha256.toUpperCase() },
      { report: (e) => events.push(e) },
    );
    expect(resolved.verified).toEqual({ sha256, from: 'option' });
    expect(events.at(-1)).toMatchObject({ type: 'progress', step: 'checksum', bytes: body.length, total: body.length });
    await expect(source.resolve(path, { downloadDirectory: downloads, sha256: wrong })).rejects.toMatchObject({
      code: 'E_IMAGE_CHECKSUM',
      details: { expected: wrong, actual: sha256, from: '--sha256' },
    });
  });

  it('checks the sum IMAGE.sha256 gives for its name; --sha256 wins over it', async () => {
    const path = await localImage();
    await writeFile(`${path}.sha256`, `${wrong}  other.img\n${sha256}  Node-1-0.img\n`);
    expect((await source.resolve(path, { downloadDirectory: downloads })).verified).toEqual({ sha256, from: 'file' });
    await writeFile(`${path}.sha256`, `${wrong}  Node-1-0.img\n`);
    await expect(source.resolve(path, { downloadDirectory: downloads })).rejects.toMatchObject({
      code: 'E_IMAGE_CHECKSUM',
      details: { from: `${path}.sha256` },
    });
    expect((await source.resolve(path, { downloadDirectory: downloads, sha256 })).verified?.from).toBe('option');
  });

  it('refuses a checksum file without a sum for the image', async () => {
    const path = await localImage();
    await writeFile(`${path}.sha256`, `${sha256}  other.img\n`);
    await expect(source.resolve(path, { downloadDirectory: downloads })).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
    });
  });

  it('refuses a malformed --sha256, a missing file and other URL schemes as the user’s mistakes', async () => {
    const path = await localImage();
    await expect(source.resolve(path, { downloadDirectory: downloads, sha256: 'abc' })).rejects.toMatchObject({
      code: 'E_USAGE',
    });
    await expect(source.resolve(join(dir, 'none.img'), { downloadDirectory: downloads })).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
    });
    await expect(source.resolve(dir, { downloadDirectory: downloads })).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
    });
    await expect(source.resolve('ftp://host/x.img', { downloadDirectory: downloads })).rejects.toMatchObject({
      code: 'E_USAGE',
    });
  });
});

describe('UrlOrFileImageSource, URLs', () => {
  it('downloads into the directory and checks the sum of URL.sha256', async () => {
    server.files.set('/images/Node-2-0.squashfs', { body });
    server.files.set('/images/Node-2-0.squashfs.sha256', { body: Buffer.from(`${sha256}  Node-2-0.squashfs\n`) });
    const url = `${server.base}/images/Node-2-0.squashfs`;
    expect(await source.resolve(url, { downloadDirectory: downloads })).toEqual({
      path: join(downloads, 'Node-2-0.squashfs'),
      fileName: 'Node-2-0.squashfs',
      url,
      verified: { sha256, from: 'file' },
    });
  });

  it('uses a download without a checksum file unchecked', async () => {
    server.files.set('/Node-2-0.img', { body });
    const resolved = await source.resolve(`${server.base}/Node-2-0.img`, { downloadDirectory: downloads });
    expect(resolved.verified).toBeUndefined();
  });

  it('removes a download that does not match, so that a retry starts over', async () => {
    server.files.set('/Node-2-0.img', { body });
    await expect(
      source.resolve(`${server.base}/Node-2-0.img`, { downloadDirectory: downloads, sha256: wrong }),
    ).rejects.toMatchObject({ code: 'E_IMAGE_CHECKSUM', details: { actual: sha256 } });
    expect(await readdir(downloads)).toEqual([]);
  });

  it('refuses a URL without a file name', async () => {
    await expect(source.resolve(`${server.base}/`, { downloadDirectory: downloads })).rejects.toMatchObject({
      code: 'E_USAGE',
    });
  });
});

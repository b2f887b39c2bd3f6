import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent } from '@imgbased/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { download } from './download.js';
import { TestHttpServer } from './testing/http-server.js';

const body = randomBytes(3 * 1024 * 1024 + 17);
const sha256 = createHash('sha256').update(body).digest('hex');
let server: TestHttpServer;
let dir: string;

beforeAll(async () => {
  server = await TestHttpServer.start();
});
afterAll(async () => {
  await server.stop();
});
afterEach(async () => {
  server.requests.length = 0;
  server.files.clear();
  await rm(dir, { recursive: true, force: true });
});

async function setup(file: Partial<import('./testing/http-server.js').ServedFile> = {}) {
  dir = await mkdtemp(join(tmpdir(), 'imgbased-download-'));
  server.files.set('/Node-1-0.img', { body, etag: '"v1"', ...file });
  return { url: `${server.base}/Node-1-0.img`, target: join(dir, 'Node-1-0.img') };
}

/** What an interrupted earlier run left: the first `bytes` of the file and its record. */
async function leavePart(target: string, url: string, bytes: number, validator = '"v1"', from = body) {
  await writeFile(`${target}.part`, from.subarray(0, bytes));
  await writeFile(`${target}.part.json`, JSON.stringify({ url, validator }));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('download', () => {
  it('fetches a whole file with its SHA-256 and progress events, leaving no part behind', async () => {
    const { url, target } = await setup();
    const events: EngineEvent[] = [];
    const result = await download(url, target, { report: (e) => events.push(e) });
    expect(result).toEqual({ bytes: body.length, resumedFrom: 0, sha256 });
    expect((await readFile(target)).equals(body)).toBe(true);
    expect(await exists(`${target}.part`)).toBe(false);
    expect(await exists(`${target}.part.json`)).toBe(false);
    expect(server.requests[0]!.headers.range).toBeUndefined();
    expect(server.requests[0]!.headers['accept-encoding']).toBe('identity');
    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'progress', step: 'download', bytes: body.length, total: body.length });
  });

  it('resumes a part of the same URL with Range and If-Range, hashing the old bytes too', async () => {
    const { url, target } = await setup();
    await leavePart(target, url, 1_000_000);
    const result = await download(url, target);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers).toMatchObject({ range: 'bytes=1000000-', 'if-range': '"v1"' });
    expect(result).toEqual({ bytes: body.length, resumedFrom: 1_000_000, sha256 });
    expect((await readFile(target)).equals(body)).toBe(true);
  });

  it('starts over when the file changed on the server (If-Range no longer matches)', async () => {
    const { url, target } = await setup({ etag: '"v2"' });
    await leavePart(target, url, 1_000_000, '"v1"', randomBytes(1_000_000));
    const result = await download(url, target);
    expect(result).toMatchObject({ resumedFrom: 0, sha256 });
    expect((await readFile(target)).equals(body)).toBe(true);
  });

  it('starts over when the server ignores ranges', async () => {
    const { url, target } = await setup({ ignoreRange: true });
    await leavePart(target, url, 500_000);
    expect(await download(url, target)).toMatchObject({ resumedFrom: 0, sha256 });
    expect((await readFile(target)).equals(body)).toBe(true);
  });

  it('does not resume a part fetched from another URL', async () => {
    const { url, target } = await setup();
    await leavePart(target, `${server.base}/other/Node-1-0.img`, 500_000);
    await download(url, target);
    expect(server.requests[0]!.headers.range).toBeUndefined();
    expect((await readFile(target)).equals(body)).toBe(true);
  });

  it('takes a part that is already whole (416) as done', async () => {
    const { url, target } = await setup();
    await leavePart(target, url, body.length);
    expect(await download(url, target)).toEqual({ bytes: body.length, resumedFrom: body.length, sha256 });
    expect((await readFile(target)).equals(body)).toBe(true);
  });

  it('keeps what arrived when the connection breaks, and the next run finishes it', async () => {
    const { url, target } = await setup({ breakAfter: 1_234_567 });
    const error = await download(url, target).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_IMAGE_DOWNLOAD' });
    expect((error as Error).message).toMatch(/run again to resume/);
    // What reached the client before the break (the socket may lose its last bytes in flight).
    const kept = (await stat(`${target}.part`)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(1_234_567);
    expect(await exists(target)).toBe(false);
    server.files.get('/Node-1-0.img')!.breakAfter = undefined;
    expect(await download(url, target)).toEqual({ bytes: body.length, resumedFrom: kept, sha256 });
  });

  it('refuses an HTTP error with its status, writing nothing', async () => {
    const { target } = await setup();
    await expect(download(`${server.base}/missing.img`, target)).rejects.toMatchObject({
      code: 'E_IMAGE_DOWNLOAD',
      message: expect.stringContaining('HTTP 404 Not Found'),
    });
    expect(await exists(target)).toBe(false);
  });

  it('is cancelled by the signal, keeping the part for the next run', async () => {
    const { url, target } = await setup({ trickle: 16 * 1024 });
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    const running = download(url, target, {
      signal: controller.signal,
      report: (e) => {
        events.push(e);
        if (e.type === 'progress' && e.bytes > 0) controller.abort();
      },
    });
    await expect(running).rejects.toMatchObject({ code: 'E_CANCELLED' });
    const kept = (await stat(`${target}.part`)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(body.length);
    server.files.get('/Node-1-0.img')!.trickle = undefined;
    expect(await download(url, target)).toMatchObject({ resumedFrom: kept, sha256 });
  });
});

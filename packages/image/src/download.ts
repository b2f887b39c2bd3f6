import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { CancelledError, ImageDownloadError, type OperationContext } from '@imgbased/core';
import { ProgressReporter } from './progress.js';

/** What a partial download was fetched from, kept beside it so that only the same file is resumed. */
interface PartRecord {
  readonly url: string;
  /** A strong ETag or a Last-Modified date, for If-Range: a file changed on the server is fetched anew. */
  readonly validator?: string | undefined;
}

export interface DownloadResult {
  readonly bytes: number;
  /** Bytes that were already there, from an earlier, interrupted run. */
  readonly resumedFrom: number;
  readonly sha256: string;
}

/**
 * Downloads `url` to `target` through `target.part` (and `target.part.json`, which names the URL and
 * the server's validator). An interrupted download is resumed with an HTTP Range request when the
 * part was fetched from the same URL and the server still has the same file (If-Range); otherwise it
 * starts over. The SHA-256 is computed on the way (the part's earlier bytes read once more).
 * `progress` events (step `download`). Cancelled through the context's signal: the part stays for the next run.
 */
export async function download(url: string, target: string, context?: OperationContext): Promise<DownloadResult> {
  const part = `${target}.part`;
  const recordFile = `${part}.json`;
  let offset = await resumableBytes(url, part, recordFile);
  const record = offset > 0 ? await readRecord(recordFile) : undefined;

  let response = await request(url, offset, record?.validator, context);
  if (response.status === 416 && offset > 0) {
    // The server has nothing after our bytes: the part is whole when the file is that long.
    const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
    await response.body?.cancel();
    if (Number(total) === offset)
      return finish(part, recordFile, target, await hashFile(part, { signal: context?.signal }), offset, offset);
    offset = 0;
    response = await request(url, 0, undefined, context);
  }
  if (response.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (range === null || Number(range[1]) !== offset) {
      await response.body?.cancel();
      offset = 0;
      response = await request(url, 0, undefined, context);
    }
  } else if (response.ok) {
    offset = 0; // the server sent the whole file: no range, or the file changed
  }
  if (!(response.ok || response.status === 206) || response.body === null) {
    await response.body?.cancel();
    throw new ImageDownloadError(url, `HTTP ${response.status} ${response.statusText}`.trim());
  }

  const total = totalBytes(response);
  const validator = strongValidator(response);
  await writeFile(recordFile, `${JSON.stringify({ url, validator } satisfies PartRecord)}\n`);
  const hash = offset > 0 ? await hashFile(part, { length: offset, signal: context?.signal }) : createHash('sha256');
  const reporter = new ProgressReporter(context, 'download', total, offset);
  let bytes = offset;
  const handle = await open(part, offset > 0 ? 'a' : 'w');
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      context?.signal?.throwIfAborted();
      await handle.write(chunk);
      hash.update(chunk);
      bytes += chunk.length;
      reporter.update(bytes);
    }
    await handle.sync();
  } catch (error) {
    throw streamError(url, bytes, error, context);
  } finally {
    await handle.close();
  }
  if (total !== undefined && bytes !== total) {
    throw new ImageDownloadError(url, `it ended after ${bytes} of ${total} bytes; run again to resume`);
  }
  reporter.finish(bytes);
  return finish(part, recordFile, target, hash, bytes, offset);
}

async function request(
  url: string,
  offset: number,
  validator: string | undefined,
  context: OperationContext | undefined,
): Promise<Response> {
  // identity: the bytes of the file as stored, never a compressed transfer that fetch would decode.
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    if (validator !== undefined) headers['if-range'] = validator;
  }
  try {
    return await fetch(url, { headers, redirect: 'follow', ...(context?.signal ? { signal: context.signal } : {}) });
  } catch (error) {
    throw streamError(url, offset, error, context);
  }
}

function streamError(url: string, bytes: number, error: unknown, context: OperationContext | undefined): Error {
  if (context?.signal?.aborted) return new CancelledError(`The download of '${url}'`, { cause: error });
  const reason = error instanceof Error ? causeMessage(error) : String(error);
  const kept = bytes > 0 ? `; ${bytes} bytes are kept: run again to resume` : '';
  return new ImageDownloadError(url, `${reason}${kept}`, { cause: error });
}

/** fetch's own errors say "fetch failed" or "terminated"; the socket's cause says why. */
function causeMessage(error: Error): string {
  const cause = error.cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}

function totalBytes(response: Response): number | undefined {
  if (response.status === 206) {
    const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
    return total === undefined ? undefined : Number(total);
  }
  const length = response.headers.get('content-length');
  return length === null ? undefined : Number(length);
}

/** If-Range takes a strong ETag or a date; a weak ETag can't tell byte ranges apart. */
function strongValidator(response: Response): string | undefined {
  const etag = response.headers.get('etag');
  if (etag !== null && !etag.startsWith('W/')) return etag;
  return response.headers.get('last-modified') ?? undefined;
}

/** How many bytes of an earlier download of `url` may be resumed: 0 unless the part's record names it. */
async function resumableBytes(url: string, part: string, recordFile: string): Promise<number> {
  const [record, size] = await Promise.all([
    readRecord(recordFile),
    stat(part).then(
      (s) => s.size,
      () => 0,
    ),
  ]);
  if (record?.url === url && size > 0) return size;
  await rm(part, { force: true });
  await rm(recordFile, { force: true });
  return 0;
}

async function readRecord(recordFile: string): Promise<PartRecord | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(recordFile, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as PartRecord).url === 'string'
      ? (parsed as PartRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The SHA-256 state after the first `length` bytes of `file` (all of them when undefined). */
export async function hashFile(
  file: string,
  options: {
    readonly length?: number | undefined;
    readonly onBytes?: ((bytes: number) => void) | undefined;
    readonly signal?: AbortSignal | undefined;
  } = {},
): Promise<Hash> {
  const { length, onBytes, signal } = options;
  const hash = createHash('sha256');
  if (length === 0) return hash;
  let bytes = 0;
  const stream = createReadStream(file, {
    ...(length === undefined ? {} : { end: length - 1 }),
    ...(signal === undefined ? {} : { signal }),
  });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(bytes);
    }
  } catch (error) {
    if (signal?.aborted) throw new CancelledError(`Reading '${file}'`, { cause: error });
    throw error;
  }
  return hash;
}

async function finish(
  part: string,
  recordFile: string,
  target: string,
  hash: Hash,
  bytes: number,
  resumedFrom: number,
): Promise<DownloadResult> {
  await rename(part, target);
  await rm(recordFile, { force: true });
  return { bytes, resumedFrom, sha256: hash.digest('hex') };
}

import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { CancelledError, ImageInvalidError, InternalError } from '@imgbased/core';
import type { ByteRange } from './used-blocks.js';

export interface CopyRangesOptions {
  /** The size of each read and write: a multiple of 64 KiB. */
  readonly chunkBytes: number;
  readonly signal?: AbortSignal | undefined;
}

/** What a copy did: its bytes, and whether every write went past the page cache (O_DIRECT). */
export interface CopyOutcome {
  readonly bytes: number;
  readonly direct: boolean;
}

const WASM_PAGE_BYTES = 64 * 1024;
// Node's global, which this package's type libraries (ES and Node's, no DOM) do not declare.
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
};

/**
 * Copies the given ranges of `source` (a file) to the same offsets of `target` (a block device, or a
 * file that exists), leaving everything else of the target unwritten, and flushes the target.
 * Two buffers: the next chunk is read while the last one is written. Writes go past the page cache
 * (O_DIRECT) where the target takes them: measured, it halves the time to a flushed device and costs
 * a fifth of the CPU, as nothing is copied into the cache and written back afterwards. A target that
 * refuses them (a tmpfs file, a range not aligned to its sectors) is written through the cache.
 */
export async function copyRanges(
  source: string,
  target: string,
  ranges: readonly ByteRange[],
  options: CopyRangesOptions,
): Promise<CopyOutcome> {
  const input = await open(source, 'r');
  try {
    const output = await DirectOrBufferedTarget.open(target);
    let pendingWrite: Promise<void> = Promise.resolve();
    try {
      const buffers = alignedBuffers(2, options.chunkBytes);
      let turn = 0;
      let copied = 0;
      for (const piece of chunks(ranges, options.chunkBytes)) {
        if (options.signal?.aborted) throw new CancelledError(`Writing ${source} to ${target}`);
        const buffer = buffers[turn]!;
        turn ^= 1;
        const length = piece.end - piece.start;
        // This buffer's last write was awaited before the other buffer's write began.
        await readFully(input, buffer, length, piece.start, source);
        await pendingWrite;
        pendingWrite = output.write(buffer, length, piece.start);
        // Handled here too: it may fail while the next read runs, before it is awaited.
        pendingWrite.catch(() => undefined);
        copied += length;
      }
      await pendingWrite;
      await output.flush();
      return { bytes: copied, direct: output.direct };
    } finally {
      await pendingWrite.catch(() => undefined);
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/**
 * Buffers on page boundaries, as O_DIRECT needs: a WebAssembly memory is mapped page by page
 * (a Buffer's memory has no alignment to rely on).
 */
function alignedBuffers(count: number, bytes: number): Buffer[] {
  const pages = Math.ceil(bytes / WASM_PAGE_BYTES);
  const memory = new WebAssembly.Memory({ initial: count * pages, maximum: count * pages });
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(memory.buffer, i * pages * WASM_PAGE_BYTES, pages * WASM_PAGE_BYTES),
  );
}

/** The target, opened with O_DIRECT when it allows it; reopened through the page cache when a write is refused. */
class DirectOrBufferedTarget {
  private constructor(
    private readonly path: string,
    private handle: FileHandle,
    public direct: boolean,
  ) {}

  static async open(path: string): Promise<DirectOrBufferedTarget> {
    // O_WRONLY without O_CREAT or O_TRUNC: a device is neither made nor cut.
    try {
      return new DirectOrBufferedTarget(path, await open(path, constants.O_WRONLY | constants.O_DIRECT), true);
    } catch (error) {
      if (errorCode(error) !== 'EINVAL') throw error;
      return new DirectOrBufferedTarget(path, await open(path, constants.O_WRONLY), false);
    }
  }

  async write(buffer: Buffer, length: number, position: number): Promise<void> {
    try {
      await this.writeFully(buffer, length, position);
    } catch (error) {
      if (!this.direct || errorCode(error) !== 'EINVAL') throw this.failure(error, position);
      await this.handle.close();
      this.handle = await open(this.path, constants.O_WRONLY);
      this.direct = false;
      await this.writeFully(buffer, length, position).catch((again: unknown) => {
        throw this.failure(again, position);
      });
    }
  }

  flush(): Promise<void> {
    return this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private async writeFully(buffer: Buffer, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await this.handle.write(buffer, done, length - done, position + done);
      done += bytesWritten;
    }
  }

  private failure(error: unknown, position: number): InternalError {
    const reason = error instanceof Error ? error.message : String(error);
    return new InternalError(`Could not write ${this.path} at byte ${position}: ${reason}`, { cause: error });
  }
}

/** The ranges cut into pieces of at most `size` bytes. */
function* chunks(ranges: readonly ByteRange[], size: number): Generator<ByteRange> {
  for (const range of ranges) {
    for (let start = range.start; start < range.end; start += size) {
      yield { start, end: Math.min(range.end, start + size) };
    }
  }
}

async function readFully(file: FileHandle, buffer: Buffer, length: number, position: number, name: string) {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new ImageInvalidError(name, `the file ends at byte ${position + done}, inside its file system`);
    }
    done += bytesRead;
  }
}

function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | undefined)?.code;
}

import { type FileHandle, open } from 'node:fs/promises';
import { CancelledError, ImageInvalidError, InternalError } from '@imgbased/core';
import type { ByteRange } from './used-blocks.js';

export interface CopyRangesOptions {
  /** The size of each read and write. */
  readonly chunkBytes: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Copies the given ranges of `source` (a file) to the same offsets of `target` (a block device, or a
 * file that exists), leaving everything else of the target unwritten, and flushes the target.
 * Two buffers: the next chunk is read while the last one is written. Returns the bytes copied.
 */
export async function copyRanges(
  source: string,
  target: string,
  ranges: readonly ByteRange[],
  options: CopyRangesOptions,
): Promise<number> {
  const input = await open(source, 'r');
  try {
    // r+: a device is opened for writing without creating or truncating anything.
    const output = await open(target, 'r+');
    let pendingWrite: Promise<void> = Promise.resolve();
    try {
      const buffers = [Buffer.allocUnsafe(options.chunkBytes), Buffer.allocUnsafe(options.chunkBytes)];
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
        pendingWrite = writeFully(output, buffer, length, piece.start, target);
        // Handled here too: it may fail while the next read runs, before it is awaited.
        pendingWrite.catch(() => undefined);
        copied += length;
      }
      await pendingWrite;
      await output.datasync();
      return copied;
    } finally {
      await pendingWrite.catch(() => undefined);
      await output.close();
    }
  } finally {
    await input.close();
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

async function writeFully(file: FileHandle, buffer: Buffer, length: number, position: number, name: string) {
  let done = 0;
  try {
    while (done < length) {
      const { bytesWritten } = await file.write(buffer, done, length - done, position + done);
      done += bytesWritten;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InternalError(`Could not write ${name} at byte ${position + done}: ${reason}`, { cause: error });
  }
}

import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import {
  ImageChecksumError,
  ImageDownloadError,
  ImageInvalidError,
  type ImageSource,
  type LocalImage,
  type OperationContext,
  UsageError,
} from '@imgbased/core';
import { injectable } from 'tsyringe';
import { download, hashFile } from './download.js';
import { ProgressReporter } from './progress.js';
import { normaliseSha256, sha256ForFile } from './sha256-file.js';

/** Answers that mean "no checksum file there" rather than "the server failed". */
const ABSENT_STATUSES = new Set([403, 404, 410]);

/**
 * IMAGE as a local file: a path is used where it is; an http(s):// URL is downloaded (resumed) into
 * the download directory. The expected SHA-256 is the caller's, else the one `IMAGE.sha256` beside
 * IMAGE gives for its file name; when there is one, the file is checked against it before this
 * returns (for a download, while it arrives). Downloads also happen in a dry run: they change no
 * system state, and the plan needs the image.
 */
@injectable()
export class UrlOrFileImageSource implements ImageSource {
  async resolve(
    image: string,
    options: { readonly downloadDirectory: string; readonly sha256?: string | undefined },
    context?: OperationContext,
  ): Promise<LocalImage> {
    const given = options.sha256 === undefined ? undefined : normaliseSha256(options.sha256);
    if (options.sha256 !== undefined && given === undefined) {
      throw new UsageError(`--sha256 takes 64 hexadecimal digits, not '${options.sha256}'`);
    }
    if (/^https?:\/\//i.test(image)) return this.fromUrl(image, options.downloadDirectory, given, context);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) {
      throw new UsageError(`Image '${image}': only local files and http(s):// URLs can be used`);
    }
    return this.fromFile(resolve(image), given, context);
  }

  private async fromFile(path: string, given: string | undefined, context?: OperationContext): Promise<LocalImage> {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) throw new ImageInvalidError(path, 'there is no such file');
    if (!info.isFile()) throw new ImageInvalidError(path, 'it is not a regular file');
    const fileName = basename(path);
    const expected = given ?? (await this.checksumFile(`${path}.sha256`, fileName, path));
    if (expected === undefined) return { path, fileName };
    const from = given === undefined ? `${path}.sha256` : '--sha256';
    const reporter = new ProgressReporter(context, 'checksum', info.size);
    const hash = await hashFile(path, { onBytes: (bytes) => reporter.update(bytes), signal: context?.signal });
    reporter.finish(info.size);
    const actual = hash.digest('hex');
    if (actual !== expected) throw new ImageChecksumError(path, expected, actual, from);
    return { path, fileName, verified: { sha256: actual, from: given === undefined ? 'file' : 'option' } };
  }

  private async fromUrl(
    url: string,
    directory: string,
    given: string | undefined,
    context?: OperationContext,
  ): Promise<LocalImage> {
    const parsed = new URL(url);
    const fileName = decodeURIComponent(parsed.pathname.slice(parsed.pathname.lastIndexOf('/') + 1));
    if (fileName === '' || fileName === '.' || fileName === '..' || fileName.includes('/')) {
      throw new UsageError(`Image URL '${url}' names no file: it must end in the image's file name`);
    }
    const checksumUrl = new URL(url);
    checksumUrl.pathname += '.sha256';
    const expected = given ?? (await this.remoteChecksumFile(checksumUrl.href, fileName, context));
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const path = join(directory, fileName);
    const result = await download(url, path, context);
    if (expected === undefined) return { path, fileName, url };
    if (result.sha256 !== expected) {
      // A download that is not the image is of no use to a retry: it starts over.
      await rm(path, { force: true });
      throw new ImageChecksumError(url, expected, result.sha256, given === undefined ? checksumUrl.href : '--sha256');
    }
    return { path, fileName, url, verified: { sha256: result.sha256, from: given === undefined ? 'file' : 'option' } };
  }

  private async checksumFile(file: string, fileName: string, image: string): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ImageInvalidError(image, `its checksum file ${file} cannot be read`, { cause: error });
    }
    return this.sumFor(text, fileName, image, file);
  }

  private async remoteChecksumFile(
    url: string,
    fileName: string,
    context?: OperationContext,
  ): Promise<string | undefined> {
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'follow', ...(context?.signal ? { signal: context.signal } : {}) });
    } catch (error) {
      throw new ImageDownloadError(url, error instanceof Error ? error.message : String(error), { cause: error });
    }
    if (ABSENT_STATUSES.has(response.status)) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) throw new ImageDownloadError(url, `HTTP ${response.status} ${response.statusText}`.trim());
    return this.sumFor(await response.text(), fileName, url, url);
  }

  /** A checksum file that is there but gives no sum for the image is refused, never ignored. */
  private sumFor(text: string, fileName: string, image: string, file: string): string {
    const sum = sha256ForFile(text, fileName);
    if (sum === undefined) {
      throw new ImageInvalidError(image, `its checksum file ${file} gives no SHA-256 for '${fileName}'`);
    }
    return sum;
  }
}

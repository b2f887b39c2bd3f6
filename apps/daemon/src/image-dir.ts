import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { JobRequest } from '@imgbased/client';
import { ImageInvalidError, ImageOutsideDirError } from '@imgbased/core';

/** A URL (`https://…`, `file://…`): the daemon downloads nothing for its callers. */
const URL_FORM = /^[a-z][a-z0-9+.-]*:/i;

/**
 * The real path of an image a caller named, only if it is below `imageDir` once every symlink is
 * resolved: a relative name is taken below `imageDir`; an absolute path, a `..`, a URL or a symlink
 * that leads out of it is refused with E_IMAGE_OUTSIDE_DIR (before anything is read), and a name
 * below it that does not exist with E_IMAGE_INVALID. The engine is then given the resolved path, so a
 * link changed after the check cannot redirect it either.
 */
export async function confineImage(image: string, imageDir: string): Promise<string> {
  if (URL_FORM.test(image) || image.includes('\0')) throw new ImageOutsideDirError(image, imageDir);
  const dir = path.resolve(imageDir);
  const named = path.resolve(dir, image);
  if (!isBelow(named, dir)) throw new ImageOutsideDirError(image, imageDir);
  const realDir = await realpath(dir).catch(() => {
    throw new ImageInvalidError(image, `the image directory ${imageDir} does not exist`);
  });
  const real = await realpath(named).catch((error: NodeJS.ErrnoException) => {
    throw new ImageInvalidError(image, error.code === 'ENOENT' ? `no such file in ${imageDir}` : String(error.code));
  });
  if (!isBelow(real, realDir)) throw new ImageOutsideDirError(image, imageDir);
  return real;
}

function isBelow(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/** The request with every `image` argument confined to `imageDir` (see confineImage). */
export async function confineJobImages(request: JobRequest, imageDir: string): Promise<JobRequest> {
  const args = (request as { args?: Record<string, unknown> }).args;
  if (!args || typeof args.image !== 'string') return request;
  return { ...request, args: { ...args, image: await confineImage(args.image, imageDir) } } as JobRequest;
}

import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confineImage, confineJobImages } from './image-dir.js';

let root: string;
let images: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'imgbased-image-dir-'));
  images = path.join(root, 'images');
  await mkdir(path.join(images, 'sub'), { recursive: true });
  await writeFile(path.join(images, 'base.img'), 'image');
  await writeFile(path.join(images, 'sub', 'nested.img'), 'image');
  await writeFile(path.join(root, 'secret'), 'outside');
  await symlink(path.join(root, 'secret'), path.join(images, 'escape.img'));
  await symlink(root, path.join(images, 'up'));
  await symlink('base.img', path.join(images, 'alias.img'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code?: string }) => error.code,
  );

describe('confineImage', () => {
  it('takes names and absolute paths below the directory, resolved to their real path', async () => {
    expect(await confineImage('base.img', images)).toBe(path.join(images, 'base.img'));
    expect(await confineImage(path.join(images, 'sub/nested.img'), images)).toBe(path.join(images, 'sub/nested.img'));
    expect(await confineImage('alias.img', images)).toBe(path.join(images, 'base.img'));
    expect(await confineImage('sub/../base.img', images)).toBe(path.join(images, 'base.img'));
  });

  it('refuses paths outside it, .., symlinks leading out, URLs and the directory itself', async () => {
    for (const image of [
      path.join(root, 'secret'),
      '../secret',
      'sub/../../secret',
      'escape.img',
      'up/secret',
      'https://example.invalid/base.img',
      'file:///etc/shadow',
      '.',
      images,
      '/etc/passwd',
    ]) {
      expect(await code(confineImage(image, images)), image).toBe('E_IMAGE_OUTSIDE_DIR');
    }
  });

  it('says when a name below it does not exist, or the directory is missing', async () => {
    expect(await code(confineImage('missing.img', images))).toBe('E_IMAGE_INVALID');
    expect(await code(confineImage('base.img', path.join(root, 'nowhere')))).toBe('E_IMAGE_INVALID');
  });

  it('confines the image argument of a job and leaves other jobs alone', async () => {
    const job = await confineJobImages(
      { verb: 'base --add', args: { nvr: 'B-1-0', size: '1G', image: 'alias.img' } },
      images,
    );
    expect(job).toEqual({
      verb: 'base --add',
      args: { nvr: 'B-1-0', size: '1G', image: path.join(images, 'base.img') },
    });
    const layer = { verb: 'layer --add' } as const;
    expect(await confineJobImages(layer, images)).toBe(layer);
    expect(
      await code(
        confineJobImages({ verb: 'base --add', args: { nvr: 'B-1-0', size: '1G', image: '/etc/passwd' } }, images),
      ),
    ).toBe('E_IMAGE_OUTSIDE_DIR');
  });
});

import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigInvalidError, defaultConfig } from '@imgbased/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigFiles } from './config-files.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgbased-config-test-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(path: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), text);
}

describe('loadConfigFiles', () => {
  it('finds nothing (and the defaults apply) when no file exists', async () => {
    expect(await loadConfigFiles({ root })).toEqual([]);
    expect(await loadConfig({ root })).toEqual(defaultConfig());
  });

  it('reads the files in order: /usr/lib, its .d (sorted), /etc, its .d (sorted)', async () => {
    await put('etc/imgbased.conf.d/b.conf', '[update]\nimages_to_keep = 5\n');
    await put('etc/imgbased.conf.d/a.conf', '[update]\nimages_to_keep = 4\n');
    await put('etc/imgbased.conf.d/ignored.txt', 'not read');
    await put('etc/imgbased.conf.d/.hidden.conf', 'not read');
    await put('etc/imgbased.conf', '[update]\nimages_to_keep = 3\n');
    await put('usr/lib/imgbased/imgbased.conf.d/10-vendor.conf', '[core]\ndebug = yes\n');
    await put('usr/lib/imgbased/imgbased.conf.d/9-vendor.conf', '[core]\ndebug = no\n');
    await put('usr/lib/imgbased/imgbased.conf', '[update]\nimages_to_keep = 2\n');
    const files = await loadConfigFiles({ root });
    expect(files.map((f) => f.path.slice(root.length))).toEqual([
      '/usr/lib/imgbased/imgbased.conf',
      '/usr/lib/imgbased/imgbased.conf.d/10-vendor.conf',
      '/usr/lib/imgbased/imgbased.conf.d/9-vendor.conf',
      '/etc/imgbased.conf',
      '/etc/imgbased.conf.d/a.conf',
      '/etc/imgbased.conf.d/b.conf',
    ]);
    expect(files[0]!.sections).toEqual({ update: { images_to_keep: '2' } });
    const config = await loadConfig({ root });
    expect(config.update.images_to_keep).toBe(5);
    expect(config.core.debug).toBe(false); // 9-vendor.conf sorts after 10-vendor.conf
  });

  it('parses INI with comments and lists', async () => {
    await put(
      'etc/imgbased.conf',
      '# a comment\n; another\n[core]\nlock_dir = /run/lock/imgbased\ndebug = true\n\n[bootloader]\nplugins = grub2, bls\n',
    );
    const config = await loadConfig({ root });
    expect(config.core).toEqual({
      debug: true,
      lock_dir: '/run/lock/imgbased',
      plugin_dir: '/usr/lib/imgbased/plugins',
    });
    expect(config.bootloader.plugins).toEqual(['grub2', 'bls']);
  });

  it('names the file and the key of an invalid setting', async () => {
    await put('etc/imgbased.conf.d/50-local.conf', '[update]\nimages_to_keep = many\n');
    const error = await loadConfig({ root }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect((error as ConfigInvalidError).details).toMatchObject({
      file: join(root, 'etc/imgbased.conf.d/50-local.conf'),
      key: 'update.images_to_keep',
    });
  });

  it('rejects a configuration path that is a directory', async () => {
    await mkdir(join(root, 'etc/imgbased.conf'), { recursive: true });
    const error = await loadConfigFiles({ root }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect((error as ConfigInvalidError).details).toEqual({
      file: join(root, 'etc/imgbased.conf'),
      key: '(file)',
      reason: 'is a directory, not a file',
    });
  });

  it('rejects a file that cannot be read (a symlink loop, which even root cannot read)', async () => {
    await mkdir(join(root, 'etc'), { recursive: true });
    await symlink('imgbased.conf', join(root, 'etc/imgbased.conf'));
    const error = await loadConfigFiles({ root }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect((error as ConfigInvalidError).details).toMatchObject({
      file: join(root, 'etc/imgbased.conf'),
      key: '(file)',
      reason: expect.stringContaining('ELOOP'),
    });
  });

  it('skips a .d path that is not a directory', async () => {
    await put('etc/imgbased.conf.d', '[core]\n');
    expect(await loadConfigFiles({ root })).toEqual([]);
  });
});

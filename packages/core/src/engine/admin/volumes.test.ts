// imgbase volume on the in-memory host: the original's separate volumes, each refusal changing nothing.
import { describe, expect, it } from 'vitest';
import { Tags } from '../../layout/tags.js';
import { adminHost, runFromLayer } from '../../testing/index.js';
import { checkVolumePath, mountUnitName, volumeName } from './volume-paths.js';

const MiB = 1024 ** 2;
const LAYER2 = '/mnt/dev/onn/Base-1-0+2';

describe('volume paths', () => {
  it('are named as the original named them, and their units as systemd-escape does', () => {
    expect(volumeName('/var/log/audit')).toBe('var_log_audit');
    expect(volumeName('/srv/my-data')).toBe('srv_my--data');
    expect(mountUnitName('/var/log/audit')).toBe('var-log-audit.mount');
    expect(mountUnitName('/srv/my-data/.x')).toBe('srv-my\\x2ddata-\\x2ex.mount');
  });

  it.each([
    ['/', 'E_VOLUME_PATH_REFUSED'],
    ['/etc', 'E_VOLUME_PATH_REFUSED'],
    ['/usr/local', 'E_VOLUME_PATH_REFUSED'],
    ['/boot/efi', 'E_VOLUME_PATH_REFUSED'],
    ['var/log', 'E_VOLUME_PATH_REFUSED'],
    ['/var//log', 'E_VOLUME_PATH_REFUSED'],
    ['/var/../etc', 'E_VOLUME_PATH_REFUSED'],
    ['/var/log/', 'E_VOLUME_PATH_REFUSED'],
    ['/srv/my_data', 'E_VOLUME_PATH_REFUSED'],
  ])('refuses %s', (path, code) => {
    expect(() => checkVolumePath(path)).toThrow(expect.objectContaining({ code }));
  });
});

describe('imgbase volume --create', () => {
  it('makes a tagged thin volume, moves the newest layer’s data in, writes the mount unit into that layer', async () => {
    const h = await adminHost();
    h.files.files.set(`${LAYER2}/var/log/messages`, 'hello');
    h.files.files.set(`${LAYER2}/var/log/dnf.log`, 'dnf');
    const result = await h.engine().createVolume('/var/log', 256 * MiB);
    expect(result).toMatchObject({
      action: 'create',
      volume: 'var_log',
      unit: 'var-log.mount',
      layer: 'Base-1-0+2',
      created: ['var_log'],
      movedIn: ['dnf.log', 'messages'],
      mountedNow: false,
    });
    const volume = h.volumes.find('var_log')!;
    expect([volume.tags, volume.sizeBytes, volume.pool]).toEqual([[Tags.volume], 256 * MiB, 'pool00']);
    expect(h.filesystem.calls).toContain('create /dev/onn/var_log');
    expect(h.files.files.get('/mnt/dev/onn/var_log/messages')).toBe('hello');
    expect(h.files.files.has(`${LAYER2}/var/log/messages`)).toBe(false);
    const unit = h.files.files.get(`${LAYER2}/etc/systemd/system/var-log.mount`)!;
    expect(unit).toContain('What=/dev/onn/var_log\nWhere=/var/log\nType=ext4\nOptions=discard\n');
    expect(h.files.links.get(`${LAYER2}/etc/systemd/system/local-fs.target.wants/var-log.mount`)).toBe(
      '/etc/systemd/system/var-log.mount',
    );
    expect(h.lock.purposes).toEqual(['volume --create']);
    expect((await h.engine().layout()).volumes.map((v) => v.mountPoint)).toEqual(['/var/log']);
  });

  it('on a host running from a layer: that layer’s /var/log, and the volume mounted there now', async () => {
    const h = await adminHost();
    runFromLayer(h, 'Base-1-0+1');
    h.files.files.set('/var/log/messages', 'live');
    const result = await h.engine().createVolume('/var/log', 256 * MiB);
    expect([result.layer, result.mountedNow]).toEqual(['Base-1-0+1', true]);
    expect(h.files.files.has('/etc/systemd/system/var-log.mount')).toBe(true);
    expect(h.mounts.entries.at(-1)).toMatchObject({
      target: '/var/log',
      source: '/dev/onn/var_log',
      options: ['rw', 'discard'],
    });
    expect((await h.engine().listVolumes()).volumes).toEqual([
      expect.objectContaining({ name: 'var_log', mountPoint: '/var/log', mountedAt: ['/var/log'], attached: true }),
    ]);
  });

  it('a dry run takes no lock and writes, moves and mounts nothing (LVM’s commands are the runner’s to plan)', async () => {
    const h = await adminHost();
    runFromLayer(h, 'Base-1-0+2');
    h.files.files.set('/var/log/messages', 'live');
    const untouched = () =>
      JSON.stringify([h.boot.snapshot(), h.mounts.entries, [...h.files.files], [...h.files.links]]);
    const before = untouched();
    const result = await h.engine().createVolume('/var/log', 256 * MiB, { dryRun: true });
    expect([result.dryRun, result.mountedNow, h.lock.purposes]).toEqual([true, false, []]);
    expect(untouched()).toBe(before);
  });

  it('is undone whole when a step fails: volume gone, data back, no unit', async () => {
    const h = await adminHost();
    h.files.files.set(`${LAYER2}/var/log/messages`, 'hello');
    const failing = h.files.symlink.bind(h.files);
    h.files.symlink = async () => {
      throw new Error('disk full');
    };
    await expect(h.engine().createVolume('/var/log', 256 * MiB)).rejects.toThrow();
    h.files.symlink = failing;
    expect(h.volumes.find('var_log')).toBeUndefined();
    expect(h.files.files.get(`${LAYER2}/var/log/messages`)).toBe('hello');
    expect(h.files.files.has(`${LAYER2}/etc/systemd/system/var-log.mount`)).toBe(false);
  });

  it('refuses, changing nothing: a refused path, a path mounted from another device, an existing volume', async () => {
    const h = await adminHost();
    h.mounts.entries.push({ target: '/tmp', source: 'tmpfs', fstype: 'tmpfs', options: ['rw'], device: undefined });
    await h.engine().createVolume('/var/log', 256 * MiB);
    const before = h.snapshot();
    for (const [path, code] of [
      ['/etc', 'E_VOLUME_PATH_REFUSED'],
      ['var/log', 'E_VOLUME_PATH_REFUSED'],
      ['/usr', 'E_VOLUME_PATH_REFUSED'],
      ['/boot', 'E_VOLUME_PATH_REFUSED'],
      ['/tmp', 'E_PATH_MOUNTED'],
      ['/var/log', 'E_VOLUME_EXISTS'],
    ] as const) {
      await expect(h.engine().createVolume(path, 64 * MiB), path).rejects.toMatchObject({ code });
    }
    expect(h.snapshot()).toBe(before);
  });
});

describe('imgbase volume --remove, --detach, --attach', () => {
  it('refuses to remove a volume in use; detach takes the unit out (and unmounts), attach puts it back', async () => {
    const h = await adminHost();
    runFromLayer(h, 'Base-1-0+2');
    await h.engine().createVolume('/var/log', 256 * MiB);
    const before = h.snapshot();
    await expect(h.engine().removeVolume('/var/log')).rejects.toMatchObject({ code: 'E_VOLUME_IN_USE' });
    await expect(h.engine().removeVolume('/home')).rejects.toMatchObject({ code: 'E_VOLUME_NOT_FOUND' });
    expect(h.snapshot()).toBe(before);

    const detached = await h.engine().detachVolume('/var/log');
    expect(detached.mountedNow).toBe(true);
    expect(h.files.files.has('/etc/systemd/system/var-log.mount')).toBe(false);
    expect(h.mounts.entries.map((m) => m.target)).toEqual(['/']);
    expect((await h.engine().listVolumes()).volumes[0]).toMatchObject({ attached: false, mountedAt: [] });

    await h.engine().attachVolume('/var/log');
    expect(h.files.files.has('/etc/systemd/system/var-log.mount')).toBe(true);
    expect(h.mounts.entries.map((m) => m.target)).toEqual(['/', '/var/log']);

    await h.engine().detachVolume('/var/log');
    const removed = await h.engine().removeVolume('/var/log');
    expect(removed.removed).toEqual(['var_log']);
    expect(h.volumes.find('var_log')).toBeUndefined();
  });
});

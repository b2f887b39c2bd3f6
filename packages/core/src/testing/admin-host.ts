import { defaultConfig, type ImgbasedConfig } from '../config/config.js';
import { ImageEngine } from '../engine/engine.js';
import { FixedHost, MemoryLock } from './fakes.js';
import { MemoryBootloader } from './memory-bootloader.js';
import { DeviceDirFilesystem, MemoryFiles, MemoryMounts, MemoryTrees } from './memory-host-admin.js';
import { MemoryVolumeManager } from './memory-volumes.js';

/**
 * A host for the admin verbs' tests, all in memory: layout `Base-1-0` with layers `Base-1-0+1` and
 * `Base-1-0+2` (the default), each booted by a memory entry whose kernel is on /boot, a thin pool
 * that autoextends, and nothing left over. The host runs from no layer until `runFrom`.
 */
export async function adminHost() {
  const volumes = MemoryVolumeManager.thinpHost();
  const autoextend = { threshold: 80, percent: 20 };
  Object.assign(volumes, { poolAutoextend: async () => ({ ...autoextend }) });
  const filesystem = new DeviceDirFilesystem();
  const host = new FixedHost({ source: 'overlay', device: undefined });
  host.directories['/boot'] = [`vmlinuz-${host.kernel}`];
  const lock = new MemoryLock();
  const boot = new MemoryBootloader();
  const mounts = new MemoryMounts();
  const files = new MemoryFiles();
  const trees = new MemoryTrees();
  const config: ImgbasedConfig = defaultConfig();
  const engine = () =>
    new ImageEngine(
      volumes,
      filesystem,
      host,
      lock,
      boot,
      undefined,
      undefined,
      undefined,
      config,
      mounts,
      files,
      trees,
    );
  await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  await engine().addLayer();
  const bootFilesThere = () => {
    for (const entry of boot.entries) host.directories[`/boot/${entry.layer}`] = [entry.kernel.split('/').at(-1)!];
  };
  bootFilesThere();
  filesystem.calls.length = 0;
  filesystem.mounts.length = 0;
  lock.purposes.length = 0;
  /** Everything a refusal must leave as it was. */
  const snapshot = () =>
    JSON.stringify([
      volumes.snapshot(),
      boot.snapshot(),
      [...boot.files],
      mounts.entries,
      [...files.files],
      [...files.links],
    ]);
  return {
    engine,
    volumes,
    filesystem,
    host,
    lock,
    boot,
    mounts,
    files,
    trees,
    config,
    autoextend,
    snapshot,
    bootFilesThere,
  };
}

/** Makes `layer` the running one: its device numbers mounted at / with discard, as imgbased boots it. */
export function runFromLayer(h: Awaited<ReturnType<typeof adminHost>>, layer: string): void {
  const volume = h.volumes.find(layer)!;
  h.host.root = { source: `/dev/mapper/onn-${layer.replaceAll('-', '--')}`, device: volume.device };
  h.mounts.entries.unshift({
    target: '/',
    source: h.host.root.source,
    fstype: 'ext4',
    options: ['rw', 'discard'],
    device: volume.device,
  });
}

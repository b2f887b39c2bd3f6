import { defaultConfig, type ImgbasedConfig } from '../config/config.js';
import { ImageEngine } from '../engine/engine.js';
import { FixedHost, MemoryLock, RecordingFilesystem } from './fakes.js';
import { foreignEntry, installedLayerEntry, MemoryBootloader } from './memory-bootloader.js';
import { FixedPersistenceSelection, MemoryImages, RecordingPersistence } from './memory-images.js';
import { MemoryVolumeManager } from './memory-volumes.js';

/**
 * A host for update tests, all in memory: layout `Base-1-0` with its first layer `Base-1-0+1` running
 * (booted by an entry with `console=ttyS0`, beside a foreign entry), an image `Base-2-0` at
 * /images/Base-2-0.img whose /boot holds kernel 6.2.0, one persistence plugin, /boot with 200 MiB free.
 * The volume group has too little room to grow the pool's metadata (tests of that give it more).
 */
export async function updateHost() {
  const volumes = MemoryVolumeManager.thinpHost();
  volumes.groups[0]!.freeBytes = 512 * 1024 ** 2;
  const filesystem = new RecordingFilesystem();
  const host = new FixedHost();
  const lock = new MemoryLock();
  const boot = new MemoryBootloader();
  const images = new MemoryImages().add('/images/Base-2-0.img', 'Base-2-0');
  const persistence = new RecordingPersistence('tar-diff');
  const selection = new FixedPersistenceSelection([persistence]);
  const config: ImgbasedConfig = defaultConfig();
  const engine = () => new ImageEngine(volumes, filesystem, host, lock, boot, selection, images, images, config);

  boot.present = false;
  await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  boot.present = true;
  boot.entries = [installedLayerEntry('Base-1-0+1', { extraOptions: ['console=ttyS0'] }), foreignEntry()];
  boot.defaultId = boot.entries[0]!.id;
  host.root = { source: '/dev/mapper/onn-Base--1--0+1', device: volumes.find('Base-1-0+1')!.device };
  host.directories['/mnt/fake/boot'] = ['vmlinuz-6.2.0', 'initrd.img-6.2.0'];
  host.spaces['/boot'] = { freeBytes: 200 * 1024 ** 2, sizeBytes: 256 * 1024 ** 2 };
  filesystem.calls.length = 0;
  lock.purposes.length = 0;
  return { engine, volumes, filesystem, host, lock, boot, images, persistence, selection, config };
}

/** Makes `layer` the running one (its volume's device numbers are mounted at /). */
export function runFrom(host: FixedHost, volumes: MemoryVolumeManager, layer: string): void {
  host.root = { source: `/dev/onn/${layer}`, device: volumes.find(layer)!.device };
}

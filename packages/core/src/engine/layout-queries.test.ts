import { beforeEach, describe, expect, it } from 'vitest';
import { FixedHost, MemoryLock, MemoryVolumeManager, RecordingFilesystem } from '../testing/index.js';
import { ImageEngine } from './engine.js';

let volumes: MemoryVolumeManager;
let filesystem: RecordingFilesystem;
let host: FixedHost;
let lock: MemoryLock;

function engine(): ImageEngine {
  return new ImageEngine(volumes, filesystem, host, lock);
}

beforeEach(() => {
  volumes = MemoryVolumeManager.thinpHost();
  filesystem = new RecordingFilesystem();
  host = new FixedHost();
  lock = new MemoryLock();
});

async function initialised(): Promise<ImageEngine> {
  const e = engine();
  await e.initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  return e;
}

describe('reading the layout', () => {
  it('lists bases in rpm order with their layers, and finds the latest of each', async () => {
    const e = await initialised();
    await e.addBase({ nvr: 'Base-10-0', sizeBytes: 2 ** 30 });
    await e.addBase({ nvr: 'Base-9-0', sizeBytes: 2 ** 30 });
    await e.addLayer({ from: 'Base-9-0' });
    const layout = await e.layout();
    expect(layout.bases.map((b) => [b.name, b.layers.map((l) => l.name)])).toEqual([
      ['Base-1-0', ['Base-1-0+1']],
      ['Base-9-0', ['Base-9-0+1']],
      ['Base-10-0', []],
    ]);
    expect(layout.initVolume).toBe('root');
    expect(layout.pool).toMatchObject({ name: 'pool00', freeBytes: 12 * 2 ** 30 });
    expect((await e.latestBase()).name).toBe('Base-10-0');
    expect((await e.latestLayer()).name).toBe('Base-9-0+1');
    expect((await e.baseOfLayer('Base-9-0+1')).name).toBe('Base-9-0');
    expect(await e.volumePath('Base-9-0+1')).toBe('/dev/onn/Base-9-0+1');
    expect(await e.freeSpace()).toEqual({ pool: 'pool00', freeBytes: 12 * 2 ** 30, sizeBytes: 16 * 2 ** 30 });
  });

  it('says there is no layout on an untouched host', async () => {
    await expect(engine().layout()).rejects.toMatchObject({ code: 'E_NO_LAYOUT' });
  });

  it('gives typed errors for unknown names', async () => {
    const e = await initialised();
    await expect(e.baseOfLayer('Base-1-0+7')).rejects.toMatchObject({ code: 'E_LAYER_NOT_FOUND' });
    await expect(e.baseOfLayer('Base-1-0')).rejects.toMatchObject({ code: 'E_NAME_INVALID' });
    await expect(e.volumePath('Nope-1-0')).rejects.toMatchObject({ code: 'E_BASE_NOT_FOUND' });
  });

  it('finds the current layer by the device mounted at /', async () => {
    const e = await initialised();
    await expect(e.currentLayer()).rejects.toMatchObject({ code: 'E_NOT_ON_LAYER' });
    host.root = { source: '/dev/mapper/onn-Base--1--0+1', device: volumes.find('Base-1-0+1')!.device };
    expect((await e.currentLayer()).name).toBe('Base-1-0+1');
  });
});

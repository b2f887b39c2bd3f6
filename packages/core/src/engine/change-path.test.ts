import { beforeEach, describe, expect, it } from 'vitest';
import { emit, type OperationContext } from '../events.js';
import { Tags } from '../layout/tags.js';
import { FixedHost, MemoryLock, MemoryVolumeManager, RecordingFilesystem } from '../testing/index.js';
import { ChangePath } from './change-path.js';
import { ImageEngine } from './engine.js';
import { HostRecovery } from './recovery.js';

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

describe('interrupted operations', () => {
  it('removes a volume a killed operation left pending before the next change', async () => {
    const e = await initialised();
    volumes.addVolume({
      vg: 'onn',
      name: 'Base-1-0+2',
      pool: 'pool00',
      origin: 'Base-1-0+1',
      tags: [Tags.layer, Tags.pending],
    });
    expect((await e.layout()).incomplete).toEqual(['Base-1-0+2']);
    const result = await e.addLayer();
    expect(result.recovered).toEqual(['Base-1-0+2']);
    expect(result.created).toEqual(['Base-1-0+2']);
    expect(volumes.find('Base-1-0+2')!.tags).toEqual([Tags.layer]);
  });

  it('undoes a killed layout --init completely, so it can run again', async () => {
    // What a kill during init leaves: group marked pending, tags set, a base made.
    volumes.groups[0]!.tags = [Tags.group, Tags.pending];
    volumes.pools[0]!.tags = [Tags.pool];
    volumes.find('root')!.tags = [Tags.init];
    volumes.addVolume({ vg: 'onn', name: 'Base-1-0', pool: 'pool00', origin: 'root', tags: [Tags.base] });
    expect((await engine().layout()).incomplete).toEqual(['Base-1-0']);
    const result = await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
    expect(result.recovered).toEqual(['Base-1-0']);
    expect(volumes.groups[0]!.tags).toEqual([Tags.group]);
    expect(volumes.find('Base-1-0')!.tags).toEqual([Tags.base]);
  });
});

describe('locking and dry runs', () => {
  it('fails at once with E_LOCKED while another operation runs, changing nothing', async () => {
    const e = await initialised();
    const held = await lock.acquire('someone else');
    const before = volumes.snapshot();
    await expect(e.addLayer()).rejects.toMatchObject({ code: 'E_LOCKED' });
    expect(volumes.snapshot()).toBe(before);
    await held.release();
  });

  it('takes no lock in a dry run', async () => {
    await initialised();
    const held = await lock.acquire('someone else');
    await expect(engine().addLayer({}, { dryRun: true })).resolves.toMatchObject({ dryRun: true });
    await held.release();
  });

  it('releases the lock after a failure', async () => {
    const e = await initialised();
    filesystem.fail = { method: 'regenerateUuid', error: new Error('boom') };
    await expect(e.addLayer()).rejects.toThrow('boom');
    expect(lock.holder).toBeUndefined();
  });
});

describe('the change path itself', () => {
  it('collects the commands a dry run planned, and passes the dry run on to every step and undo', async () => {
    const seen: (boolean | undefined)[] = [];
    const path = new ChangePath(volumes, lock, new HostRecovery(volumes, filesystem, undefined));
    const failing = path.change('test', { dryRun: true }, async (tx) => {
      seen.push(tx.context.dryRun);
      emit(tx.context, { type: 'command', argv: ['lvcreate', 'x'], mutates: true, planned: true });
      emit(tx.context, { type: 'command', argv: ['lvs'], mutates: false, planned: false });
      tx.onUndo('undo it', async (c) => {
        seen.push(c.dryRun);
      });
      throw new Error('stop here');
    });
    await expect(failing).rejects.toThrow('stop here');
    expect(seen).toEqual([true, true]);
    expect(lock.purposes).toEqual([]);

    const result = await path.change('test', { dryRun: true }, async (tx) => {
      emit(tx.context, { type: 'command', argv: ['lvcreate', 'x'], mutates: true, planned: true });
      emit(tx.context, { type: 'command', argv: ['lvs'], mutates: false, planned: false });
    });
    expect(result).toEqual({
      dryRun: true,
      created: [],
      removed: [],
      recovered: [],
      plan: [{ argv: ['lvcreate', 'x'] }],
    });
  });

  it('turns a failure caused by the signal into E_CANCELLED, after undoing', async () => {
    const controller = new AbortController();
    const undone: string[] = [];
    const context: OperationContext = { signal: controller.signal };
    const run = new ChangePath(volumes, lock, new HostRecovery(volumes, filesystem, undefined)).run(
      'test',
      context,
      async (tx) => {
        tx.onUndo('step one', async () => {
          undone.push('step one');
        });
        controller.abort(new Error('stop'));
        throw new Error('a command died of the abort');
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(undone).toEqual(['step one']);
    expect(lock.holder).toBeUndefined();
  });
});

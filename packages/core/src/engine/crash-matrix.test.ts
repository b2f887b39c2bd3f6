// Every changing verb, killed after each of its steps (in-memory: LVM and the bootloader frozen at that
// instant, so that not even the undo runs), then the next command. At the instant of the kill the
// default must name a committed layer (a reboot then boots one); after the next command the whole
// host state is consistent. The real-tool version of this table runs in the VM (test-e2e crash tests).
import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import { Tags } from '../layout/tags.js';
import { RecordingFilesystem } from '../testing/fakes.js';
import { FixedHost, foreignEntry, MemoryBootloader, MemoryLock, MemoryVolumeManager } from '../testing/index.js';
import { ImageEngine } from './engine.js';

class Killed extends Error {}

let volumes: MemoryVolumeManager;
let boot: MemoryBootloader;
let lock: MemoryLock;
let host: FixedHost;
let steps = 0;
let killAt = Number.POSITIVE_INFINITY;

function engine(): ImageEngine {
  return new ImageEngine(volumes, new RecordingFilesystem(), host, lock, boot);
}

/** Counts each changing call after it is done; at `killAt` the process "dies": nothing changes any more. */
function freezable<T extends object>(target: T, methods: (keyof T)[]): void {
  for (const method of methods) {
    const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
    (target as Record<keyof T, unknown>)[method] = async (...args: unknown[]) => {
      if (steps >= killAt) throw new Killed('dead');
      const value = await original(...args);
      if (++steps >= killAt) throw new Killed(`killed after step ${steps}`);
      return value;
    };
  }
}

async function fresh(init: boolean): Promise<void> {
  steps = 0;
  killAt = Number.POSITIVE_INFINITY;
  volumes = MemoryVolumeManager.thinpHost();
  boot = new MemoryBootloader();
  boot.entries = [foreignEntry()];
  boot.defaultId = 'rescue';
  lock = new MemoryLock();
  host = new FixedHost();
  host.directories['/boot'] = [`vmlinuz-${host.kernel}`];
  if (init) {
    await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
    await engine().addLayer();
    await engine().addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    await engine().addLayer({ from: 'Base-2-0' });
  }
  freezable(volumes, ['create', 'change', 'changeGroup', 'remove']);
  freezable(boot, ['writeEntries', 'setDefault', 'setNextBoot', 'removeOwnFiles']);
}

const VERBS: [string, boolean, (e: ImageEngine) => Promise<unknown>][] = [
  ['layout --init', false, (e) => e.initLayout({ nvr: 'Base-1-0', from: 'onn/root' })],
  ['base --add', true, (e) => e.addBase({ nvr: 'Base-3-0', sizeBytes: 2 ** 30 })],
  ['base --remove', true, (e) => e.removeBase('Base-1-0')],
  ['layer --add', true, (e) => e.addLayer()],
  ['boot --set-default', true, (e) => e.setDefaultBoot('Base-1-0+1')],
  ['boot --next', true, (e) => e.setNextBoot('Base-1-0+1')],
  ['boot --edit-kernel-args', true, (e) => e.editKernelArgs('Base-1-0+1', { append: ['quiet'] })],
];

/** The layers whose volumes are there and settled. */
function committed(): Set<string> {
  const pendingGroup = volumes.groups.some((g) => g.tags.includes(Tags.pending));
  return new Set(
    volumes.volumes
      .filter((v) => v.tags.includes(Tags.layer) && !v.tags.includes(Tags.pending) && !pendingGroup)
      .map((v) => v.name),
  );
}

/** A reboot now boots a committed layer (or the foreign entry): the default names one. */
function expectBootable(label: string): void {
  const entry = boot.entries.find((e) => e.id === boot.defaultId);
  expect(entry, `${label}: the default ${boot.defaultId} is an entry`).toBeDefined();
  if (entry?.layer !== undefined) expect(committed().has(entry.layer), `${label}: default committed`).toBe(true);
  const next = boot.entries.find((e) => e.id === boot.nextId);
  if (next?.layer !== undefined) expect(committed().has(next.layer), `${label}: one-shot committed`).toBe(true);
}

function expectConsistent(label: string): void {
  const layers = committed();
  expect(
    volumes.volumes.filter((v) => v.tags.includes(Tags.pending)).map((v) => v.name),
    label,
  ).toEqual([]);
  const own = boot.entries.filter((e) => e.layer !== undefined).map((e) => e.layer!);
  expect(
    own.filter((l) => !layers.has(l)),
    `${label}: entries of layers not committed`,
  ).toEqual([]);
  expect(new Set(own).size, `${label}: one entry per layer`).toBe(own.length);
  expectBootable(label);
  expect(
    [...boot.files].filter((f) => !layers.has(f.slice('/boot/'.length))),
    `${label}: stray files`,
  ).toEqual([]);
  expect(lock.holder, `${label}: lock`).toBeUndefined();
}

beforeEach(() => fresh(false));

describe('every changing verb, killed after each step, then the next command', () => {
  for (const [verb, initialised, run] of VERBS) {
    it(verb, async () => {
      await fresh(initialised);
      await run(engine());
      const total = steps;
      expect(total, `${verb} changes something`).toBeGreaterThan(0);
      for (let kill = 1; kill <= total; kill++) {
        const label = `${verb} killed after step ${kill}/${total}`;
        await fresh(initialised);
        killAt = kill;
        await run(engine()).then(
          () => expect.fail(`${label}: not killed`),
          (error: unknown) => expect(error, label).toBeInstanceOf(Killed),
        );
        lock.holder = undefined; // the killed process's lock is stale: the next one takes it
        expectBootable(label);
        killAt = Number.POSITIVE_INFINITY;
        // The next command: the same verb again (a typed refusal is fine: e.g. the base is gone already).
        await run(engine()).catch((error: unknown) => {
          expect((error as { code?: string }).code, `${label}: next command`).toMatch(/^E_/);
        });
        expectConsistent(label);
      }
    });
  }

  it('the default of a new layer is set last, once its volume is committed', async () => {
    await fresh(true);
    await engine().addLayer();
    expect(boot.defaultId).toBe(entryIdForLayer('Base-2-0+2'));
  });
});

// Every changing verb, killed after each of its steps (in-memory: LVM and the bootloader frozen at that
// instant, so that not even the undo runs), then the next command. At the instant of the kill the
// default must name a committed layer (a reboot then boots one); after the next command the whole
// host state is consistent. The real-tool version of this table runs in the VM (test-e2e crash tests).
import { describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import { Tags } from '../layout/tags.js';
import { RecordingFilesystem } from '../testing/fakes.js';
import {
  adminHost,
  FixedHost,
  foreignEntry,
  MemoryBootloader,
  MemoryLock,
  MemoryVolumeManager,
  originalNodeHost,
  updateHost,
} from '../testing/index.js';
import { ImageEngine } from './engine.js';

class Killed extends Error {}

let volumes: MemoryVolumeManager;
let boot: MemoryBootloader;
let lock: MemoryLock;
let makeEngine: () => ImageEngine;
/** A row's own check after the next command (data not lost, say). */
let extraCheck: ((label: string) => void) | undefined;
let steps = 0;
let killAt = Number.POSITIVE_INFINITY;

function engine(): ImageEngine {
  return makeEngine();
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

function freezeCommon(): void {
  freezable(volumes, ['create', 'change', 'changeGroup', 'remove', 'extendPoolMetadata']);
  freezable(boot, ['writeEntries', 'setDefault', 'setNextBoot', 'removeOwnFiles']);
}

/** Layout Base-1-0 (+1) and Base-2-0 (+1) made with the plain engine, or nothing at all. */
async function plainHost(init: boolean): Promise<void> {
  volumes = MemoryVolumeManager.thinpHost();
  boot = new MemoryBootloader();
  boot.entries = [foreignEntry()];
  boot.defaultId = 'rescue';
  lock = new MemoryLock();
  const host = new FixedHost();
  host.directories['/boot'] = [`vmlinuz-${host.kernel}`];
  makeEngine = () => new ImageEngine(volumes, new RecordingFilesystem(), host, lock, boot);
  if (init) {
    await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
    await engine().addLayer();
    await engine().addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    await engine().addLayer({ from: 'Base-2-0' });
  }
}

/**
 * The update host (running Base-1-0+1), with an older base Base-0-9 (+1) that the update's GC removes
 * (two images kept); with `updated`, Base-2-0 installed already (for rollback).
 */
async function updatedHost(updated: boolean): Promise<void> {
  const h = await updateHost();
  volumes = h.volumes;
  boot = h.boot;
  lock = h.lock;
  makeEngine = h.engine;
  h.volumes.groups[0]!.freeBytes = 8 * 1024 ** 3;
  await h.engine().addBase({ nvr: 'Base-0-9', sizeBytes: 2 ** 30 });
  await h.engine().addLayer({ from: 'Base-0-9' });
  if (updated) {
    h.images.add('/images/Base-3-0.img', 'Base-3-0');
    await h.engine().update({ image: '/images/Base-2-0.img' });
  }
}

const VAR_LOG_DATA = '/mnt/dev/onn/Base-1-0+2/var/log/messages';
const VOLUME_DATA = '/mnt/dev/onn/var_log/messages';

/** The admin host (layers Base-1-0+1 and +2, running none), with /var/log data; with `volume`, on var_log. */
async function adminScene(volume: boolean): Promise<void> {
  const h = await adminHost();
  volumes = h.volumes;
  boot = h.boot;
  lock = h.lock;
  makeEngine = h.engine;
  h.files.files.set(VAR_LOG_DATA, 'hello');
  if (volume) await h.engine().createVolume('/var/log', 2 ** 28);
  freezable(h.files, ['writeText', 'symlink', 'remove', 'makeDirectory', 'copyContents', 'clearDirectory']);
  freezable(h.mounts, ['mount', 'unmount']);
  if (volume) return; // removing the volume removes its data: that is what the admin asked for
  extraCheck = (label) => {
    // The admin's /var/log is in the layer or in a committed volume: never lost.
    const inVolume = h.files.files.get(VOLUME_DATA) === 'hello' && committedVolume('var_log');
    const inLayer = h.files.files.get(VAR_LOG_DATA) === 'hello';
    expect(inVolume || inLayer, `${label}: /var/log/messages kept`).toBe(true);
  };
}

/** The original imgbased's layout, adopted by layout --adopt. */
async function originalScene(): Promise<void> {
  volumes = originalNodeHost().volumes;
  boot = new MemoryBootloader();
  boot.entries = [foreignEntry()];
  boot.defaultId = 'rescue';
  lock = new MemoryLock();
  makeEngine = () => new ImageEngine(volumes, new RecordingFilesystem(), new FixedHost(), lock, boot);
}

function committedVolume(name: string): boolean {
  const volume = volumes.volumes.find((v) => v.name === name);
  return volume !== undefined && !volume.tags.includes(Tags.pending);
}

async function fresh(setup: () => Promise<void>): Promise<void> {
  steps = 0;
  killAt = Number.POSITIVE_INFINITY;
  extraCheck = undefined;
  await setup();
  freezeCommon();
}

const plain = () => plainHost(false);
const initialised = () => plainHost(true);
const VERBS: [string, () => Promise<void>, (e: ImageEngine) => Promise<unknown>][] = [
  ['layout --init', plain, (e) => e.initLayout({ nvr: 'Base-1-0', from: 'onn/root' })],
  ['layout --adopt', originalScene, (e) => e.adoptLayout()],
  ['base --add', initialised, (e) => e.addBase({ nvr: 'Base-3-0', sizeBytes: 2 ** 30 })],
  ['base --remove', initialised, (e) => e.removeBase('Base-1-0')],
  ['base --pin', initialised, (e) => e.pinBase('Base-1-0', true)],
  [
    'base --unpin',
    async () => {
      await initialised();
      await engine().pinBase('Base-1-0', true);
    },
    (e) => e.pinBase('Base-1-0', false),
  ],
  ['layer --add', initialised, (e) => e.addLayer()],
  ['update (with GC)', () => updatedHost(false), (e) => e.update({ image: '/images/Base-2-0.img' })],
  ['rollback', () => updatedHost(true), (e) => e.rollback()],
  ['boot --set-default', initialised, (e) => e.setDefaultBoot('Base-1-0+1')],
  ['boot --next', initialised, (e) => e.setNextBoot('Base-1-0+1')],
  ['boot --edit-kernel-args', initialised, (e) => e.editKernelArgs('Base-1-0+1', { append: ['quiet'] })],
  ['volume --create', () => adminScene(false), (e) => e.createVolume('/var/log', 2 ** 28)],
  ['volume --remove', () => adminScene(true), (e) => e.removeVolume('/var/log')],
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
  extraCheck?.(label);
}

describe('every changing verb, killed after each step, then the next command', () => {
  for (const [verb, setup, run] of VERBS) {
    it(verb, async () => {
      await fresh(setup);
      await run(engine());
      const total = steps;
      expect(total, `${verb} changes something`).toBeGreaterThan(0);
      for (let kill = 1; kill <= total; kill++) {
        const label = `${verb} killed after step ${kill}/${total}`;
        await fresh(setup);
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
    await fresh(initialised);
    await engine().addLayer();
    expect(boot.defaultId).toBe(entryIdForLayer('Base-2-0+2'));
  });
});

import { bootOnce, EMPTY_TRIAL_RECORD, type TrialProtocol, type TrialRecord } from '../boot/trial-protocol.js';
import type { TrialBootloader } from '../contracts/trial-bootloader.js';

/**
 * A bootloader's trial state in memory, with power-on (`powerOn`) doing what the real bootloader does
 * before the kernel, and `crashAt = n` cutting the n-th write. Proves nothing about a real bootloader.
 */
export class MemoryTrialBootloader implements TrialBootloader {
  defaultLayer: string | undefined;
  armed: { layer: string; left: number } | undefined;
  record: TrialRecord = EMPTY_TRIAL_RECORD;
  readonly writes: string[] = [];
  crashAt = Number.POSITIVE_INFINITY;

  constructor(
    readonly protocol: TrialProtocol,
    defaultLayer: string,
  ) {
    this.defaultLayer = defaultLayer;
  }

  private write(what: string): void {
    if (this.writes.length + 1 >= this.crashAt) throw Object.assign(new Error('simulated crash'), { code: 'ECRASH' });
    this.writes.push(what);
  }

  /** The bootloader at power-on: the layer it boots. */
  powerOn(): string {
    const { booted, boot } = bootOnce({ defaultLayer: this.defaultLayer ?? '', armed: this.armed }, this.protocol);
    this.armed = boot.armed;
    return booted;
  }

  async trialState() {
    return { defaultLayer: this.defaultLayer, armed: this.armed };
  }
  async arm(layer: string, left: number): Promise<void> {
    this.write(`arm ${layer} ${left}`);
    this.armed = { layer, left };
  }
  async disarm(makeDefault: string | undefined): Promise<void> {
    this.write(makeDefault === undefined ? 'disarm' : `disarm, default ${makeDefault}`);
    this.armed = undefined;
    if (makeDefault !== undefined) this.defaultLayer = makeDefault;
  }
  async setDefaultLayer(layer: string): Promise<void> {
    this.write(`default ${layer}`);
    this.defaultLayer = layer;
  }
  async readRecord(): Promise<TrialRecord> {
    return this.record;
  }
  async writeRecord(record: TrialRecord): Promise<void> {
    this.write('record');
    this.record = record;
  }
}

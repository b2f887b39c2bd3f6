import { describe, expect, it } from 'vitest';
import { MemoryBootFiles } from '../testing/memory-boot-files.js';
import { EMPTY_TRIAL_RECORD, type TrialRecord } from './trial-protocol.js';
import {
  layerBootState,
  parseTrialRecord,
  readTrialRecord,
  serializeTrialRecord,
  trialRecordPath,
  writeTrialRecord,
} from './trial-record.js';

const NOW = '2026-12-01T00:00:00.000Z';
const RECORD: TrialRecord = {
  trial: { layer: 'B-2-0+1', good: 'B-1-0+1', tries: 3, attempts: 1, started: NOW },
  layers: {
    'B-1-0+2': { state: 'failed', at: NOW, reason: 'required check 50-app exited 1' },
    'B-1-0+1': { state: 'good', at: NOW },
  },
};

describe('trial record', () => {
  it('round-trips through its text, layers sorted, and reads nothing as the empty record', async () => {
    const text = serializeTrialRecord(RECORD);
    expect(text.indexOf('B-1-0+1')).toBeLessThan(text.indexOf('B-1-0+2'));
    expect(parseTrialRecord(text, 'trial.json')).toEqual(RECORD);
    expect(await readTrialRecord(new MemoryBootFiles(), '/boot')).toEqual(EMPTY_TRIAL_RECORD);
  });

  it('refuses a file that is not a record, naming it', () => {
    expect(() => parseTrialRecord('{', '/boot/imgbased/trial.json')).toThrow(/trial\.json: not JSON/);
    const tooMany = JSON.stringify({ version: 1, layers: {}, trial: { ...RECORD.trial, tries: 12 } });
    expect(() => parseTrialRecord(tooMany, 'f')).toThrow(expect.objectContaining({ code: 'E_BOOT_CONFIG_INVALID' }));
    expect(() => parseTrialRecord(JSON.stringify({ version: 2, layers: {} }), 'f')).toThrow(/version/);
  });

  it('writes durably under the boot root, and not at all when nothing changed', async () => {
    const files = new MemoryBootFiles();
    expect(await writeTrialRecord(files, '/boot/', RECORD)).toBe(true);
    expect(trialRecordPath('/boot/')).toBe('/boot/imgbased/trial.json');
    expect(await readTrialRecord(files, '/boot')).toEqual(RECORD);
    const steps = files.steps;
    expect(await writeTrialRecord(files, '/boot', RECORD)).toBe(false);
    expect(files.steps).toBe(steps);
  });

  it('a write cut at any step leaves the old record or the new one, whole', async () => {
    const seen = new Set<string>();
    for (let cut = 1; cut <= 6; cut++) {
      const files = new MemoryBootFiles();
      await writeTrialRecord(files, '/boot', RECORD);
      files.crashAt = files.steps + cut;
      await writeTrialRecord(files, '/boot', { ...RECORD, trial: undefined }).catch(() => undefined);
      files.crashAt = Number.POSITIVE_INFINITY;
      seen.add((await readTrialRecord(files, '/boot')).trial?.layer ?? 'none');
    }
    expect([...seen].sort()).toEqual(['B-2-0+1', 'none']);
  });

  it('says each layer boot state: trial with attempts left, good, failed with its reason, unknown', () => {
    expect(layerBootState(RECORD, 'B-2-0+1')).toEqual({ state: 'trial', attemptsLeft: 2, since: NOW });
    expect(layerBootState(RECORD, 'B-2-0+1', 1)).toMatchObject({ attemptsLeft: 1 });
    expect(layerBootState(RECORD, 'B-1-0+1')).toEqual({ state: 'good', at: NOW });
    expect(layerBootState(RECORD, 'B-1-0+2')).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/50-app/),
    });
    expect(layerBootState(RECORD, 'B-9-0+1')).toEqual({ state: 'unknown' });
  });
});

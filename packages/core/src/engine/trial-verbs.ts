import { entryIdForLayer } from '../boot/entries.js';
import { TrialBoots, type TrialCheckResult, type TrialOptions } from '../boot/trial-boots.js';
import { layerBootState, layerBootStateView } from '../boot/trial-record.js';
import type { Bootloader } from '../contracts/bootloader.js';
import type { TrialBootloader } from '../contracts/trial-bootloader.js';
import type { HostPower, TrialChecker, TrialCheckRun } from '../contracts/trial-checks.js';
import { BootUnsupportedError, LayerNotFoundError, NoBootloaderError } from '../errors/index.js';
import type { OperationContext } from '../events.js';
import { allLayers } from '../layout/layout.js';
import type { BootDefaultChange } from '../layout/schema.js';
import type { TrialChange, TrialCheck, TrialStatus } from '../layout/trial-schema.js';
import { parseLayerName } from '../naming/nvr.js';
import type { BootEntries } from './boot-entries.js';
import { type ChangePath, step } from './change-path.js';
import { requireLayout } from './layout-lookups.js';
import type { LayoutQueries } from './layout-queries.js';

export interface TrialSettings {
  readonly tries: number;
  readonly on_failure: 'reboot' | 'stay';
  readonly timeout: number;
  readonly units: readonly string[];
}

const DRY_RUN_STATE: Record<string, TrialChange['state']> = {
  'boot --trial': 'trial',
  'boot --mark-good': 'good',
  'boot --mark-bad': 'failed',
};

export const DEFAULT_TRIAL_SETTINGS: TrialSettings & { readonly enabled: boolean } = {
  enabled: true,
  tries: 3,
  on_failure: 'reboot',
  timeout: 300,
  units: [],
};

/** What `update` boots its new layer with: a trial per `[trial]`, or undefined when disabled. */
export function trialOptions(settings: TrialSettings & { readonly enabled: boolean }): TrialOptions | undefined {
  return settings.enabled ? { tries: settings.tries, onFailure: settings.on_failure } : undefined;
}

export interface TrialVerbPorts {
  readonly checker?: TrialChecker | undefined;
  readonly power?: HostPower | undefined;
  /** `imgbase check`'s verdict: a `failed` host fails the trial. */
  readonly health?: ((context: OperationContext) => Promise<'ok' | 'degraded' | 'failed'>) | undefined;
}

/**
 * The trial-boot verbs (docs/trial-boots.md): `boot --trial`, `--mark-good`, `--mark-bad`,
 * `--trial-status` and `--check-trial`, the last run by imgbased-boot-check.service on every boot.
 */
export class TrialVerbs {
  constructor(
    private readonly path: ChangePath,
    private readonly queries: LayoutQueries,
    private readonly entries: BootEntries,
    private readonly settings: TrialSettings,
    private readonly ports: TrialVerbPorts = {},
  ) {}

  async trialStatus(context: OperationContext): Promise<TrialStatus> {
    const bootloader = await this.entries.bootloader(context);
    const trial = bootloader?.trial?.();
    if (!bootloader || !trial) {
      return { bootloader: bootloader?.name ?? null, protocol: null, trial: null, layers: [] };
    }
    const [record, state] = await Promise.all([trial.readRecord(context), trial.trialState(context)]);
    const running = record.trial;
    const left = (layer: string) =>
      state.armed?.layer === layer && trial.protocol !== 'extlinux-once' ? state.armed.left : undefined;
    const names = [...new Set([...(running ? [running.layer] : []), ...Object.keys(record.layers)])].sort();
    return {
      bootloader: bootloader.name,
      protocol: trial.protocol,
      trial: running
        ? { ...running, attemptsLeft: stateLeft(layerBootState(record, running.layer, left(running.layer))) }
        : null,
      layers: names.flatMap((layer) => {
        const view = layerBootStateView(record, layer, left(layer));
        return view === null ? [] : [{ layer, ...view }];
      }),
    };
  }

  /** Boots `layer` as a trial: the default stays the running good layer until the trial proves itself. */
  bootTrial(layer: string, context: OperationContext): Promise<TrialChange> {
    parseLayerName(layer);
    return this.change('boot --trial', layer, context, async (trials) => {
      await trials.start(layer, context);
      return { state: 'trial', reason: null };
    });
  }

  /** `boot --set-default LAYER --trial`: `boot --trial`, answered as `boot --set-default` answers. */
  async setDefaultAsTrial(layer: string, context: OperationContext): Promise<BootDefaultChange> {
    const change = await this.bootTrial(layer, context);
    const bootloader = await this.entries.bootloader(context);
    const [state, capabilities] = await Promise.all([bootloader!.state(context), bootloader!.capabilities(context)]);
    const entry = state.entries.find((e) => e.layer === layer)?.id ?? entryIdForLayer(layer);
    const { dryRun, bootloader: name } = change;
    return { dryRun, bootloader: name, layer, entry, atomic: capabilities.atomicSwap, trial: true };
  }

  markGood(layer: string | undefined, context: OperationContext): Promise<TrialChange> {
    return this.change('boot --mark-good', layer, context, async (trials) => {
      await trials.markGood(layer, context);
      return { state: 'good', reason: null };
    });
  }

  markBad(layer: string, reason: string | undefined, context: OperationContext): Promise<TrialChange> {
    const why = reason ?? 'marked bad by hand (boot --mark-bad)';
    return this.change('boot --mark-bad', layer, context, async (trials) => {
      await trials.markBad(layer, why, context);
      return { state: 'failed', reason: why };
    });
  }

  /** One boot's run of the check service: reconcile, or check the trial layer and mark it; reboot per on_failure. */
  async checkTrial(context: OperationContext): Promise<TrialCheck> {
    const booted = (await this.queries.currentLayer(context)).name;
    const checks: TrialCheckRun[] = [];
    const { value } = await this.path.run('boot --check-trial', context, async (tx) => {
      const { trials } = await this.trials(tx.context);
      step(tx, 'boot', `Checking the trial boot state (booted ${booted})`);
      return trials.check(booted, () => this.runChecks(checks, tx.context), tx.context);
    });
    const result: TrialCheck = {
      layer: value.layer ?? null,
      booted,
      result: value.result,
      reason: value.reason ?? null,
      reboot: value.reboot,
      checks: checks.map((c) => ({ ...c, detail: c.detail ?? null })),
    };
    if (result.reboot && !context.dryRun) await this.ports.power?.reboot(context);
    return result;
  }

  private async runChecks(into: TrialCheckRun[], context: OperationContext): Promise<TrialCheckResult> {
    if (this.ports.health) {
      const health = await this.ports.health(context);
      into.push({ name: 'imgbase check', required: true, ok: health !== 'failed', detail: health });
    }
    const settings = { timeoutSeconds: this.settings.timeout, units: this.settings.units };
    into.push(...((await this.ports.checker?.run(settings, context)) ?? []));
    const failed = into.find((c) => c.required && !c.ok);
    if (failed === undefined) return { ok: true };
    return { ok: false, reason: `required check ${failed.name} failed${failed.detail ? `: ${failed.detail}` : ''}` };
  }

  private async change(
    purpose: string,
    layer: string | undefined,
    context: OperationContext,
    apply: (trials: TrialBoots) => Promise<{ state: TrialChange['state']; reason: string | null }>,
  ): Promise<TrialChange> {
    const { value } = await this.path.run(purpose, context, async (tx, report) => {
      const layout = requireLayout(report, tx.context);
      if (layer !== undefined && !allLayers(layout).some((l) => l.name === layer)) throw new LayerNotFoundError(layer);
      const { bootloader, trials, trial } = await this.trials(tx.context);
      // --mark-good without a layer names the running trial.
      const target = layer ?? (await trial.readRecord(tx.context)).trial?.layer ?? '';
      const base = { dryRun: Boolean(context.dryRun), bootloader: bootloader.name, layer: target };
      if (context.dryRun) {
        step(tx, 'boot', `Would run ${purpose} ${target} (${bootloader.name}, dry run)`);
        return { ...base, state: DRY_RUN_STATE[purpose] ?? 'trial', reason: null };
      }
      step(tx, 'boot', `${purpose} ${target} (${bootloader.name})`);
      return { ...base, ...(await apply(trials)) };
    });
    return value;
  }

  private async trials(
    context: OperationContext,
  ): Promise<{ bootloader: Bootloader; trials: TrialBoots; trial: TrialBootloader }> {
    const bootloader = await this.entries.bootloader(context);
    if (!bootloader) throw new NoBootloaderError(['auto']);
    const trial = bootloader.trial?.();
    if (!trial) throw new BootUnsupportedError(bootloader.name, 'boot a layer as a trial (drop --trial)');
    const trials = new TrialBoots(trial, { tries: this.settings.tries, onFailure: this.settings.on_failure });
    return { bootloader, trials, trial };
  }
}

function stateLeft(view: ReturnType<typeof layerBootState>): number {
  return view.state === 'trial' ? view.attemptsLeft : 0;
}

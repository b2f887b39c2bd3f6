import { access, constants, readdir } from 'node:fs/promises';
import {
  CommandRunner,
  type HostPower,
  type OperationContext,
  type TrialChecker,
  type TrialCheckRun,
  type TrialCheckSettings,
} from '@imgbased/core';
import { inject, injectable } from 'tsyringe';

/** Where the admin's checks live: executables, run in name order. */
export const TRIAL_CHECK_DIRECTORY = '/etc/imgbased/check.d';

/** A check's exit status is its answer, never an error of the runner's. */
const ANY_EXIT_CODE = Array.from({ length: 256 }, (_, code) => code);

/**
 * The checks of a trial layer, in its own userspace (docs/trial-boots.md): the default target is
 * active, no unit failed (or none of `[trial] units`), then `check.d/required.d/*` and `wanted.d/*`.
 * The service runs after the target, so it asks systemd directly instead of `is-system-running
 * --wait`, which would wait for this very service.
 */
@injectable()
export class SystemdTrialChecker implements TrialChecker {
  /** Where `required.d/` and `wanted.d/` are (another directory in tests). */
  directory = TRIAL_CHECK_DIRECTORY;

  constructor(@inject(CommandRunner) private readonly runner: CommandRunner) {}

  async run(settings: TrialCheckSettings, context?: OperationContext): Promise<TrialCheckRun[]> {
    const timeoutMs = settings.timeoutSeconds * 1000;
    const target = await this.runner.run(
      { argv: ['systemctl', 'is-active', 'default.target'], mutates: false, okExitCodes: [0, 3, 4], timeoutMs },
      context,
    );
    const state = target.stdout.trim();
    const runs: TrialCheckRun[] = [
      { name: 'default.target reached', required: true, ok: state === 'active', detail: state },
    ];
    const listed = await this.runner.run(
      { argv: ['systemctl', 'list-units', '--state=failed', '--plain', '--no-legend'], mutates: false, timeoutMs },
      context,
    );
    const failed = listed.stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter((unit) => unit !== '' && (settings.units.length === 0 || settings.units.includes(unit)));
    runs.push({
      name: settings.units.length === 0 ? 'no failed units' : `none of ${settings.units.join(' ')} failed`,
      required: true,
      ok: failed.length === 0,
      detail: failed.length === 0 ? undefined : `failed: ${failed.join(' ')}`,
    });
    for (const [kind, required] of [
      ['required.d', true],
      ['wanted.d', false],
    ] as const) {
      for (const name of await executables(`${this.directory}/${kind}`)) {
        const path = `${this.directory}/${kind}/${name}`;
        const result = await this.runner
          .run({ argv: [path], mutates: false, okExitCodes: ANY_EXIT_CODE, timeoutMs }, context)
          .catch((error: unknown) => ({ exitCode: -1, stderr: (error as Error).message }));
        const ok = result.exitCode === 0;
        const said = result.stderr.trim().split('\n').at(-1) ?? '';
        const status = result.exitCode === -1 ? 'did not finish' : `exit status ${result.exitCode}`;
        const detail = ok ? undefined : `${status}${said ? `: ${said}` : ''}`;
        runs.push({ name: `${kind}/${name}`, required, ok, detail });
      }
    }
    return runs;
  }
}

/** The executable files of a directory, by name; none when it does not exist. */
async function executables(directory: string): Promise<string[]> {
  const names = await readdir(directory).catch(() => [] as string[]);
  const found: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const ok = await access(`${directory}/${name}`, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) found.push(name);
  }
  return found;
}

/** Reboots through systemd without waiting for the caller's own unit to stop. */
@injectable()
export class SystemdHostPower implements HostPower {
  constructor(@inject(CommandRunner) private readonly runner: CommandRunner) {}

  async reboot(context?: OperationContext): Promise<void> {
    // Not cancellable: the shutdown this starts stops the check service, whose SIGTERM cancels the
    // operation's signal while systemctl may still be running. The request must stand, and the caller
    // still reports its verdict (and exits 3) before the service stops.
    await this.runner.run(
      { argv: ['systemctl', '--no-block', 'reboot'], mutates: true },
      { ...context, signal: undefined },
    );
  }
}

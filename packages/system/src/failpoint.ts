import { appendFileSync, statSync } from 'node:fs';

/**
 * Named fail points for the crash tests, as etcd's gofail or FreeBSD's fail(9) have them: after each
 * changing step (a mutating command has run, a file step on /boot or the ESP is done) the adapters call
 * `failpoint(name, detail)`, which may SIGKILL this very process there, as a power cut or `kill -9`
 * would. Armed only when both hold: the environment asks for it and the file FAILPOINT_GATE exists,
 * owned by root (test machines make it; nothing ships it). A stray variable alone does nothing. Off,
 * a call costs one comparison; the environment is read once, at the first call.
 *
 * - `IMGBASED_FAILPOINT=<name>:<n>`: killed right after the n-th step named `<name>` (`*`: any step).
 * - `IMGBASED_FAILPOINT_TRACE=<file>`: every step appended as `<n>\t<name>\t<detail>` (the list of
 *   steps of a verb, which the crash tests then kill at one by one).
 */
export const FAILPOINT_GATE = '/run/imgbased-failpoints.enable';

export interface FailpointSettings {
  /** Kill after the `at`-th step named `name` (`*`: counting every step). */
  readonly kill: { readonly name: string; readonly at: number } | undefined;
  readonly trace: string | undefined;
}

interface Armed extends FailpointSettings {
  total: number;
  readonly byName: Map<string, number>;
}

let armed: Armed | null | undefined;

/** The settings the environment asks for; undefined when it asks for none. Throws on a malformed spec. */
export function parseFailpointSettings(env: NodeJS.ProcessEnv): FailpointSettings | undefined {
  const spec = env.IMGBASED_FAILPOINT;
  const trace = env.IMGBASED_FAILPOINT_TRACE || undefined;
  if (!spec && !trace) return undefined;
  let kill: FailpointSettings['kill'];
  if (spec) {
    const colon = spec.lastIndexOf(':');
    const at = Number(spec.slice(colon + 1));
    if (colon <= 0 || !Number.isSafeInteger(at) || at < 1) {
      throw new Error(`IMGBASED_FAILPOINT='${spec}': expected <step-name>:<n> (n >= 1)`);
    }
    kill = { name: spec.slice(0, colon), at };
  }
  return { kill, trace };
}

/** True when the gate file exists and belongs to root (the one thing only a test machine has). */
export function failpointGateOpen(path = FAILPOINT_GATE): boolean {
  try {
    const stat = statSync(path);
    return stat.isFile() && stat.uid === 0;
  } catch {
    return false;
  }
}

function arm(): Armed | null {
  const settings = parseFailpointSettings(process.env);
  if (settings === undefined || !failpointGateOpen()) return null;
  return { ...settings, total: 0, byName: new Map() };
}

/** A changing step just happened: trace it, and die here when the armed fail point says so. */
export function failpoint(name: string, detail = ''): void {
  if (armed === null) return;
  armed ??= arm();
  if (armed === null) return;
  armed.total++;
  const count = (armed.byName.get(name) ?? 0) + 1;
  armed.byName.set(name, count);
  if (armed.trace !== undefined) appendFileSync(armed.trace, `${armed.total}\t${name}\t${detail}\n`);
  const kill = armed.kill;
  if (kill !== undefined && (kill.name === '*' ? armed.total : kill.name === name ? count : 0) === kill.at) {
    process.kill(process.pid, 'SIGKILL');
  }
}

/** The step name of a command: `run.<program>`, with lvm's subcommand (`run.lvm.lvcreate`). */
export function commandStepName(argv: readonly string[]): string {
  const program = (argv[0] ?? '').slice((argv[0] ?? '').lastIndexOf('/') + 1);
  return program === 'lvm' && argv[1] !== undefined ? `run.lvm.${argv[1]}` : `run.${program}`;
}

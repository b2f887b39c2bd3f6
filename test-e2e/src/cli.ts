// `vm-run`: run one command in the test VM by hand. bin/vm-run bundles this file and calls main().
import { ensureVmAssets } from './assets.ts';
import { DEFAULT_TIMEOUT_MS, runInVm, type VmDisk, VmError } from './vm.ts';

const USAGE = `usage: vm-run [--disk FILE[:SIZE]]... [--timeout SECONDS] [--memory MB] [--env NAME=VALUE]...
              [--cwd DIR] -- COMMAND [ARG]...
       vm-run --prepare

Runs COMMAND as root in a throwaway QEMU VM (Debian kernel, real device-mapper) that sees this machine's /
read-only under a writable tmpfs overlay (/tmp, /run, /dev are fresh). Prints the command's stdout and
stderr and exits with its exit code; 125 when the VM itself failed (timeout, crash).
  --disk FILE[:SIZE]  raw disk image, /dev/vda, /dev/vdb… in order; created sparse with SIZE (e.g. 2G,
                      512M) when missing
  --timeout SECONDS   whole-VM limit (default ${DEFAULT_TIMEOUT_MS / 1000})
  --cwd DIR           working directory in the guest (default: the current directory)
  --prepare           only build the cached kernel and initramfs`;

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "2G", "512M", "1048576" → bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)([KMGT]?)(?:i?B)?$/i.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNITS[match[2]!.toUpperCase()]!;
}

/** FILE:SIZE when the part after the last colon is a size, else the whole text is the file. */
export function parseDisk(text: string): VmDisk {
  const colon = text.lastIndexOf(':');
  const size = colon > 0 ? parseSize(text.slice(colon + 1)) : undefined;
  return size === undefined ? { path: text } : { path: text.slice(0, colon), sizeBytes: size };
}

class UsageError extends Error {}

interface CliOptions {
  prepare: boolean;
  disks: VmDisk[];
  timeoutMs: number;
  memoryMb: number | undefined;
  env: Record<string, string>;
  cwd: string;
  command: string[];
}

export function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = {
    prepare: false,
    disks: [],
    timeoutMs: DEFAULT_TIMEOUT_MS,
    memoryMb: undefined,
    env: {},
    cwd: process.cwd(),
    command: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--') {
      options.command = argv.slice(i + 1);
      break;
    } else if (arg === '--prepare') options.prepare = true;
    else if (arg === '--disk') options.disks.push(parseDisk(value()));
    else if (arg === '--timeout') options.timeoutMs = Number(value()) * 1000;
    else if (arg === '--memory') options.memoryMb = Number(value());
    else if (arg === '--cwd') options.cwd = value();
    else if (arg === '--env') {
      const [name, ...rest] = value().split('=');
      if (!name || rest.length === 0) throw new UsageError('--env needs NAME=VALUE');
      options.env[name] = rest.join('=');
    } else if (arg === '-h' || arg === '--help') throw new UsageError('');
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else {
      options.command = argv.slice(i);
      break;
    }
  }
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new UsageError('bad --timeout');
  if (!options.prepare && options.command.length === 0) throw new UsageError('no command given');
  return options;
}

/** Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) console.error(`vm-run: ${error.message}`);
    console.error(USAGE);
    return error.message ? 2 : 0;
  }
  if (options.prepare) {
    const assets = await ensureVmAssets();
    console.log(`vm-run: kernel ${assets.kernelVersion}: ${assets.vmlinux}\nvm-run: initramfs ${assets.initramfs}`);
    return 0;
  }
  try {
    const result = await runInVm({
      command: options.command,
      disks: options.disks,
      env: options.env,
      cwd: options.cwd,
      timeoutMs: options.timeoutMs,
      ...(options.memoryMb ? { memoryMb: options.memoryMb } : {}),
    });
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    return result.exitCode;
  } catch (error) {
    if (!(error instanceof VmError)) throw error;
    console.error(`vm-run: ${error.message}`);
    return 125;
  }
}

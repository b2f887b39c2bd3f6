import {
  CommandFailedError,
  CommandRunner,
  type CreateVolumeRequest,
  InternalError,
  NameInvalidError,
  type OperationContext,
  SizeInvalidError,
  type StorageReport,
  UsageError,
  type VolumeChange,
  type VolumeManager,
  VolumeNotFoundError,
  type VolumeRef,
} from '@imgbased/core';
import { inject, injectable } from 'tsyringe';
import { LVS_ARGV, parseLvsReport } from './lvs-report.js';

type GroupChange = Pick<VolumeChange, 'addTags' | 'removeTags'>;

/** lvm(8) VALID NAMES: letters, digits and `+_.-`, not starting with `-`. */
const LVM_NAME = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/;
/** lvm(8) tags: letters, digits and `_+.-/=!:&#`, at most 1024 characters (no comma: lvs joins with commas). */
const LVM_TAG = /^[A-Za-z0-9_+.\-/=!:&#]{1,1024}$/;

function checkName(name: string, what: string): void {
  if (!LVM_NAME.test(name) || name === '.' || name === '..' || name.length > 127) {
    throw new NameInvalidError(name, `not a valid LVM ${what} name (letters, digits, '+_.-', not starting with '-')`);
  }
}

function checkTags(tags: readonly string[] | undefined): void {
  for (const tag of tags ?? []) {
    if (!LVM_TAG.test(tag)) {
      throw new NameInvalidError(tag, "not a valid LVM tag (letters, digits and '_+.-/=!:&#', at most 1024)");
    }
  }
}

function tagArgs(option: '--addtag' | '--deltag', tags: readonly string[] | undefined): string[] {
  return (tags ?? []).flatMap((tag) => [option, tag]);
}

function lvName(ref: VolumeRef): string {
  checkName(ref.vg, 'volume group');
  checkName(ref.name, 'logical volume');
  return `${ref.vg}/${ref.name}`;
}

// Argument lists, exported for tests and for the README.

export function lvcreateArgv(request: CreateVolumeRequest): string[] {
  checkName(request.vg, 'volume group');
  checkName(request.name, 'logical volume');
  checkTags(request.tags);
  if (request.kind === 'thin') {
    checkName(request.pool, 'thin pool');
    if (!Number.isSafeInteger(request.sizeBytes) || request.sizeBytes <= 0) {
      throw new SizeInvalidError(String(request.sizeBytes), 'a thin volume needs a whole, positive number of bytes');
    }
    return [
      'lvm',
      'lvcreate',
      '--yes',
      '--type',
      'thin',
      '--virtualsize',
      `${request.sizeBytes}b`,
      '--thinpool',
      request.pool,
      '--name',
      request.name,
      ...tagArgs('--addtag', request.tags),
      request.vg,
    ];
  }
  checkName(request.origin, 'logical volume');
  return [
    'lvm',
    'lvcreate',
    '--yes',
    '--snapshot',
    '--name',
    request.name,
    ...tagArgs('--addtag', request.tags),
    `${request.vg}/${request.origin}`,
  ];
}

/** The property part of a change (tags, permission, activation skip), or undefined when there is none. */
export function lvchangePropertiesArgv(target: VolumeRef, change: VolumeChange): string[] | undefined {
  checkTags(change.addTags);
  checkTags(change.removeTags);
  const options = [
    ...tagArgs('--addtag', change.addTags),
    ...tagArgs('--deltag', change.removeTags),
    ...(change.readOnly === undefined ? [] : ['--permission', change.readOnly ? 'r' : 'rw']),
    ...(change.activationSkip === undefined ? [] : ['--setactivationskip', change.activationSkip ? 'y' : 'n']),
  ];
  return options.length === 0 ? undefined : ['lvm', 'lvchange', ...options, lvName(target)];
}

/** Activation ignores the activation-skip flag (bases and new snapshots carry it); deactivation is plain. */
export function lvchangeActivationArgv(target: VolumeRef, active: boolean): string[] {
  return active
    ? ['lvm', 'lvchange', '--activate', 'y', '--ignoreactivationskip', lvName(target)]
    : ['lvm', 'lvchange', '--activate', 'n', lvName(target)];
}

export function vgchangeTagsArgv(vg: string, change: GroupChange): string[] | undefined {
  checkName(vg, 'volume group');
  checkTags(change.addTags);
  checkTags(change.removeTags);
  const options = [...tagArgs('--addtag', change.addTags), ...tagArgs('--deltag', change.removeTags)];
  return options.length === 0 ? undefined : ['lvm', 'vgchange', ...options, vg];
}

/** Grows a thin pool's metadata to `sizeBytes` (lvm grows the spare metadata volume with it). */
export function lvextendMetadataArgv(pool: VolumeRef, sizeBytes: number): string[] {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
    throw new SizeInvalidError(String(sizeBytes), 'pool metadata needs a whole, positive number of bytes');
  }
  return ['lvm', 'lvextend', '--yes', '--poolmetadatasize', `${sizeBytes}b`, lvName(pool)];
}

export function lvremoveArgv(target: VolumeRef): string[] {
  return ['lvm', 'lvremove', '--yes', lvName(target)];
}

/** lvchange refuses `--permission` when the volume has it already ("... is already read only/writable"). */
const ALREADY_PERMISSION = /is already (read only|writable)/;
const LV_NOT_FOUND = /Failed to find logical volume "([^"]+)"/;
const VG_NOT_FOUND = /Volume group "([^"]+)" not found/;

/** Maps the unambiguous "no such LV/VG" failures to VolumeNotFoundError (keeping the command's error as cause). */
function mapFailure(error: unknown): unknown {
  if (!(error instanceof CommandFailedError)) return error;
  const stderr = typeof error.details?.stderr === 'string' ? error.details.stderr : '';
  const missing = LV_NOT_FOUND.exec(stderr)?.[1] ?? VG_NOT_FOUND.exec(stderr)?.[1];
  if (missing === undefined) return error;
  const mapped = new VolumeNotFoundError(missing);
  Object.defineProperty(mapped, 'cause', { value: error, writable: true, configurable: true, enumerable: false });
  return mapped;
}

function stderrOf(error: unknown): string {
  return error instanceof CommandFailedError && typeof error.details?.stderr === 'string' ? error.details.stderr : '';
}

const AUTOEXTEND_KEYS = ['thin_pool_autoextend_threshold', 'thin_pool_autoextend_percent'] as const;

/**
 * imgbased's VolumeManager over lvm2: every operation is one or two `lvm` commands through the CommandRunner
 * (so dry runs record them, and events report them). report() is a single `lvm lvs` call.
 */
@injectable()
export class LvmThinVolumeManager implements VolumeManager {
  constructor(@inject(CommandRunner) private readonly runner: CommandRunner) {}

  async report(context?: OperationContext): Promise<StorageReport> {
    const result = await this.runner.run({ argv: LVS_ARGV, mutates: false }, context);
    return parseLvsReport(result.stdout);
  }

  async create(request: CreateVolumeRequest, context?: OperationContext): Promise<void> {
    await this.mutate(lvcreateArgv(request), context);
  }

  /**
   * Deactivation first (nothing is changed when the volume is still in use), then the properties in one
   * lvchange, then activation: lvm2 advises against combining activation with property changes, and
   * `--ignoreactivationskip` is only accepted by the activation form of lvchange.
   * Setting a permission the volume has already is not an error here.
   * A ref whose name is empty names a volume group: only tags can change then.
   */
  async change(target: VolumeRef, change: VolumeChange, context?: OperationContext): Promise<void> {
    if (target.name === '') {
      if (change.readOnly !== undefined || change.activationSkip !== undefined || change.active !== undefined) {
        throw new UsageError(`Only tags can change on volume group '${target.vg}'`);
      }
      await this.changeGroup(target.vg, change, context);
      return;
    }
    const properties = lvchangePropertiesArgv(target, change);
    if (change.active === false) await this.mutate(lvchangeActivationArgv(target, false), context);
    if (properties !== undefined) await this.changeProperties(target, change, properties, context);
    if (change.active === true) await this.mutate(lvchangeActivationArgv(target, true), context);
  }

  async changeGroup(vg: string, change: GroupChange, context?: OperationContext): Promise<void> {
    const argv = vgchangeTagsArgv(vg, change);
    if (argv !== undefined) await this.mutate(argv, context);
  }

  async remove(target: VolumeRef, context?: OperationContext): Promise<void> {
    await this.mutate(lvremoveArgv(target), context);
  }

  async extendPoolMetadata(pool: VolumeRef, sizeBytes: number, context?: OperationContext): Promise<void> {
    await this.mutate(lvextendMetadataArgv(pool, sizeBytes), context);
  }

  /** `activation/thin_pool_autoextend_{threshold,percent}` as lvm2 applies them (configured or default). */
  async poolAutoextend(context?: OperationContext): Promise<{ threshold: number; percent: number }> {
    const argv = ['lvm', 'lvmconfig', '--typeconfig', 'full', ...AUTOEXTEND_KEYS.map((k) => `activation/${k}`)];
    const result = await this.runner.run({ argv, mutates: false }, context);
    const value = (key: string) => Number(new RegExp(`^\\s*${key}=(\\d+)`, 'm').exec(result.stdout)?.[1] ?? Number.NaN);
    const [threshold, percent] = AUTOEXTEND_KEYS.map(value) as [number, number];
    if (!Number.isFinite(threshold) || !Number.isFinite(percent))
      throw new InternalError(`'${argv.join(' ')}' did not print both settings`);
    return { threshold, percent };
  }

  private async changeProperties(
    target: VolumeRef,
    change: VolumeChange,
    argv: string[],
    context: OperationContext | undefined,
  ): Promise<void> {
    try {
      await this.runner.run({ argv, mutates: true }, context);
    } catch (error) {
      if (change.readOnly === undefined || !ALREADY_PERMISSION.test(stderrOf(error))) throw mapFailure(error);
      // The permission was already as asked; apply the rest (idempotent) without it.
      const rest = lvchangePropertiesArgv(target, { ...change, readOnly: undefined });
      if (rest !== undefined) await this.mutate(rest, context);
    }
  }

  private async mutate(argv: string[], context: OperationContext | undefined): Promise<void> {
    try {
      await this.runner.run({ argv, mutates: true }, context);
    } catch (error) {
      throw mapFailure(error);
    }
  }
}

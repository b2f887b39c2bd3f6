import { type ErrorOptions, ImgbasedError } from './base.js';

export class KernelArgInvalidError extends ImgbasedError {
  constructor(arg: string, reason: string) {
    super('E_KERNEL_ARG_INVALID', `Kernel argument '${arg}' cannot be used: ${reason}`, { details: { arg, reason } });
  }
}

export class PersistenceConflictError extends ImgbasedError {
  constructor(conflicts: readonly { readonly path: string; readonly reason: string }[]) {
    const first = conflicts[0];
    super(
      'E_PERSISTENCE_CONFLICT',
      `${conflicts.length} path(s) changed both by the admin and by the new base${first ? ` (first: ${first.path}: ${first.reason})` : ''}; nothing was written: choose a conflict policy for them`,
      { details: { conflicts: conflicts.map((c) => ({ path: c.path, reason: c.reason })) } },
    );
  }
}
export class UnsafePathError extends ImgbasedError {
  constructor(path: string, reason: string) {
    super('E_UNSAFE_PATH', `Refusing to write '${path}': ${reason}`, { details: { path, reason } });
  }
}

/** A plugin module that cannot be used: missing, not a plugin definition, or failing to load. */
export class PluginInvalidError extends ImgbasedError {
  constructor(plugin: string, reason: string, options: ErrorOptions = {}) {
    super('E_PLUGIN_INVALID', `Plugin '${plugin}' cannot be used: ${reason}`, {
      ...options,
      details: { plugin, reason },
    });
  }
}
/** A plugin written for another version of a contract than this imgbased implements. */
export class PluginIncompatibleError extends ImgbasedError {
  constructor(plugin: string, kind: string, wanted: number, found: unknown) {
    super(
      'E_PLUGIN_INCOMPATIBLE',
      `Plugin '${plugin}' implements ${kind} contract version ${String(found)}, this imgbased needs ${wanted}: install a matching version of the plugin`,
      { details: { plugin, kind, wanted, found: typeof found === 'number' ? found : String(found) } },
    );
  }
}

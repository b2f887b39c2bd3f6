import type * as z from 'zod/mini';
import type { OperationContext } from '../events.js';
import type { VerbEngine } from './engine-port.js';

export type VerbKind = 'read' | 'change';

/** A reading verb's GET route on the daemon; `param` names the route's path parameter (an argument). */
export interface VerbRoute {
  readonly method: 'GET';
  readonly path: string;
  readonly param?: 'name';
}

/**
 * One verb of `imgbase`: what it takes, what it answers and the engine call between them. The CLI's
 * commands and the daemon's routes and jobs are derived from these.
 */
export interface VerbDefinition<
  Args extends z.ZodMiniType = z.ZodMiniType,
  Result extends z.ZodMiniType = z.ZodMiniType,
  Kind extends VerbKind = VerbKind,
> {
  /** `read` verbs change nothing (GET routes); `change` verbs run as root, as jobs in the daemon. */
  readonly kind: Kind;
  readonly summary: string;
  /** Named as the daemon's requests name them; bounds here are the API's validation. */
  readonly args: Args;
  /** The `data` of the verb's `--json` envelope. */
  readonly result: Result;
  readonly http?: VerbRoute;
  // Method syntax on purpose: a table of verbs with different arguments is then one type.
  run(engine: VerbEngine, args: z.output<Args>, context: OperationContext): Promise<z.output<Result>>;
}

/** Checks one entry of the table and keeps its precise types (the arguments `run` gets). */
export function defineVerb<Args extends z.ZodMiniType, Result extends z.ZodMiniType, Kind extends VerbKind>(
  definition: VerbDefinition<Args, Result, Kind>,
): VerbDefinition<Args, Result, Kind> {
  return definition;
}

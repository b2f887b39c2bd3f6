import type { AdoptResult } from '@imgbased/core';
import type { Outcome } from './human.js';
import { lines } from './human.js';
import { shellQuote } from './output.js';

/** `layout --adopt`: each step taken (or, in a dry run, the plan), and what was left as it is. */
export function adopted(result: AdoptResult): Outcome {
  const out: string[] = [];
  if (result.steps.length === 0) out.push('Nothing to adopt: the layout follows imgbased’s conventions');
  if (result.dryRun && result.steps.length > 0) {
    out.push('Dry run: nothing was changed. These steps would run:');
    for (const step of result.steps) out.push(`  ${step.message}`);
    for (const command of result.plan) out.push(`  $ ${shellQuote(command.argv)}`);
  } else {
    for (const step of result.steps) out.push(step.message);
  }
  for (const reason of result.skipped) out.push(`Left as it is: ${reason}`);
  return { data: result, human: lines(out) };
}

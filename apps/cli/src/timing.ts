// Phase timestamps of one run, for the benchmarks (bench/run.ts): with IMGBASED_TIMING=1 set, the
// process prints on stderr, as it exits, one line `imgbase-timing {"phase": ms since the process
// started, …}`. Otherwise marking costs nothing but a check.

/** Records that a phase ended now (no-op unless IMGBASED_TIMING=1). */
export type MarkPhase = (phase: string) => void;

/** A recorder for this process, or undefined when timing is off. */
export function phaseTimer(): { mark: MarkPhase; note: (key: string, value: string) => void } | undefined {
  if (process.env.IMGBASED_TIMING !== '1') return undefined;
  // Node's own start, up to running the first line of JavaScript of ours.
  const marks: Record<string, number> = { node: performance.nodeTiming.bootstrapComplete };
  const notes: Record<string, string> = {};
  const mark = (phase: string) => {
    marks[phase] = performance.now();
  };
  process.once('exit', () => {
    mark('exit');
    const rounded = Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, Math.round(v * 10) / 10]));
    process.stderr.write(`imgbase-timing ${JSON.stringify({ ...rounded, ...notes })}\n`);
  });
  return {
    mark,
    note: (key, value) => {
      notes[key] = value;
    },
  };
}

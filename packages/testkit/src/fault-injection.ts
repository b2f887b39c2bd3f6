import type { BootFileOps } from '@imgbased/core';

/** BootFileOps that can be made to fail from a chosen changing step on, as a crash would cut a write. */
export interface FaultInjectingOps extends BootFileOps {
  /**
   * From now on, the `step`-th changing step (1-based: writeNew, copyNew, mkdir, rename, syncDirectory,
   * remove) and every one after it throw an errno-style error (`code: 'ECUT'`): after a crash nothing
   * more reaches the disk, an undo included. Reads keep working.
   */
  cutAt(step: number): void;
  /** Stops failing. */
  disarm(): void;
  /** Changing steps taken since the last `cutAt` (or since the wrapper was made). */
  readonly steps: number;
  /** True when a step failed since the last `cutAt`. */
  readonly cut: boolean;
}

/** Wraps `ops` (Node's fs in the suites) with a step counter that can cut a write anywhere. */
export function faultInjectingOps(ops: BootFileOps): FaultInjectingOps {
  let steps = 0;
  let failFrom = Number.POSITIVE_INFINITY;
  let cut = false;
  const step = (): void => {
    steps++;
    if (steps >= failFrom) {
      cut = true;
      throw Object.assign(new Error(`imgbased testkit: write cut at step ${failFrom}`), { code: 'ECUT' });
    }
  };
  return {
    get steps() {
      return steps;
    },
    get cut() {
      return cut;
    },
    cutAt(at) {
      steps = 0;
      cut = false;
      failFrom = at;
    },
    disarm() {
      failFrom = Number.POSITIVE_INFINITY;
    },
    read: (path) => ops.read(path),
    list: (directory) => ops.list(directory),
    exists: (path) => ops.exists(path),
    async writeNew(path, data) {
      step();
      return ops.writeNew(path, data);
    },
    async copyNew(from, to) {
      step();
      return ops.copyNew(from, to);
    },
    async mkdir(directory) {
      step();
      return ops.mkdir(directory);
    },
    async rename(from, to) {
      step();
      return ops.rename(from, to);
    },
    async syncDirectory(directory) {
      step();
      return ops.syncDirectory(directory);
    },
    async remove(path) {
      step();
      return ops.remove(path);
    },
  };
}

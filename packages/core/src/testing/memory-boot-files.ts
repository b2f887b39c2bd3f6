import type { BootFileOps } from '../contracts/bootloader-plugin.js';

/**
 * An in-memory file tree behind core's crash-safe file steps, with a step counter: `crashAt = n` makes
 * the n-th changing step throw, to cut a write anywhere. Proves nothing about a real file system.
 */
export class MemoryBootFiles implements BootFileOps {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>(['/']);
  steps = 0;
  crashAt = Number.POSITIVE_INFINITY;

  private step(): void {
    if (++this.steps >= this.crashAt) throw Object.assign(new Error('simulated crash'), { code: 'ECRASH' });
  }
  async read(path: string): Promise<string | undefined> {
    return this.files.get(path);
  }
  async list(dir: string): Promise<string[]> {
    const names = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs])
      if (p.startsWith(`${dir}/`)) names.add(p.slice(dir.length + 1).split('/')[0]!);
    return [...names];
  }
  async exists(path: string): Promise<boolean> {
    return this.files.has(path) || this.dirs.has(path);
  }
  async writeNew(path: string, data: string): Promise<void> {
    this.step();
    if (this.files.has(path)) throw Object.assign(new Error(`EEXIST ${path}`), { code: 'EEXIST' });
    this.files.set(path, data);
  }
  async copyNew(from: string, to: string): Promise<void> {
    this.step();
    const data = this.files.get(from);
    if (data === undefined) throw Object.assign(new Error(`ENOENT ${from}`), { code: 'ENOENT' });
    this.files.set(to, data);
  }
  async mkdir(dir: string): Promise<void> {
    this.step();
    this.dirs.add(dir);
  }
  async rename(from: string, to: string): Promise<void> {
    this.step();
    for (const [p, d] of [...this.files])
      if (p === from || p.startsWith(`${from}/`)) {
        this.files.delete(p);
        this.files.set(to + p.slice(from.length), d);
      }
    if (this.dirs.delete(from)) this.dirs.add(to);
  }
  async syncDirectory(): Promise<void> {
    this.step();
  }
  async remove(path: string): Promise<void> {
    this.step();
    for (const p of [...this.files.keys()]) if (p === path || p.startsWith(`${path}/`)) this.files.delete(p);
    this.dirs.delete(path);
  }
  /** A copy of every file, to assert that a refused write changed nothing. */
  snapshot(): string {
    return JSON.stringify([...this.files].sort());
  }
}

import type { BootFileOps } from '../contracts/bootloader-plugin.js';

/**
 * An in-memory file tree behind core's crash-safe file steps, with a step counter: `crashAt = n` makes
 * the n-th changing step throw, to cut a write anywhere. Proves nothing about a real file system.
 */
export class MemoryBootFiles implements BootFileOps {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>(['/']);
  /** Symbolic links: path to target (absolute, or relative to the link's directory). */
  readonly links = new Map<string, string>();
  steps = 0;
  crashAt = Number.POSITIVE_INFINITY;

  private step(): void {
    if (++this.steps >= this.crashAt) throw Object.assign(new Error('simulated crash'), { code: 'ECRASH' });
  }
  /** `path` with its links followed (a link in the last component only, as boot files need). */
  target(path: string): string {
    let current = path;
    for (let hops = 0; hops < 40; hops++) {
      const link = this.links.get(current);
      if (link === undefined) return current;
      current = normalize(link.startsWith('/') ? link : `${current.slice(0, current.lastIndexOf('/'))}/${link}`);
    }
    throw Object.assign(new Error(`ELOOP ${path}`), { code: 'ELOOP' });
  }
  async resolve(path: string): Promise<string> {
    return this.target(path);
  }
  async read(path: string): Promise<string | undefined> {
    return this.files.get(this.target(path));
  }
  async list(dir: string): Promise<string[]> {
    const names = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs, ...this.links.keys()])
      if (p.startsWith(`${dir}/`)) names.add(p.slice(dir.length + 1).split('/')[0]!);
    return [...names];
  }
  async exists(path: string): Promise<boolean> {
    const target = this.target(path);
    return this.files.has(target) || this.dirs.has(target);
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
    this.links.delete(to); // rename(2) replaces a symlink itself, never its target
    const link = this.links.get(from);
    if (link !== undefined) {
      this.links.delete(from);
      this.links.set(to, link);
    }
  }
  async syncDirectory(): Promise<void> {
    this.step();
  }
  async remove(path: string): Promise<void> {
    this.step();
    for (const p of [...this.files.keys()]) if (p === path || p.startsWith(`${path}/`)) this.files.delete(p);
    this.dirs.delete(path);
    this.links.delete(path);
  }
  /** A copy of every file and link, to assert that a refused write changed nothing. */
  snapshot(): string {
    return JSON.stringify([...this.files, ...[...this.links].map(([p, t]) => [p, `-> ${t}`])].sort());
  }
}

function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '' && part !== '.') parts.push(part);
  }
  return `/${parts.join('/')}`;
}

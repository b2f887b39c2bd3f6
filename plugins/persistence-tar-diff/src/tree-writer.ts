import { constants, type Stats } from 'node:fs';
import { lstat, mkdtemp, open, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandRunner, type OperationContext, UnsafePathError } from '@imgbased/core';
import { assertRealParents, encodePath, nulList } from '@imgbased/system';

/**
 * GNU tar options that keep everything: owner and mode (numeric), every xattr byte for byte (the SELinux
 * label is the xattr security.selinux, capabilities are security.capability), ACLs, holes. Not
 * `--selinux`: it rewrites the label through libselinux, which changes its bytes (adds a NUL).
 */
export const TAR_KEEP = ['--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '--sparse'];
/** 128 KiB records through the FIFO rather than 10 KiB: a third less time for the two tars. */
const FIFO_RECORDS = ['--blocking-factor=256'];
/** Extraction that restores owner, mode and directory times exactly. */
export const TAR_RESTORE = ['--same-permissions', '--same-owner', '--delay-directory-restore'];

/** A copy to save beside the new base's files: `pack` (parents first) is staged, then `from` is moved to `to`. */
export interface SavedCopy {
  readonly pack: readonly string[];
  readonly from: string;
  readonly to: string;
}

/**
 * The writes of a carry-over into a tree imgbased does not trust: removals, moves and extraction, each
 * after checking that no parent is a symlink. Paths are absolute inside the trees, as decodePath gives
 * them: they reach the file system and tar's lists as bytes (encodePath, nulList), never as argv.
 */
export class TreeWriter {
  constructor(private readonly runner: CommandRunner) {}

  /** Removes paths (children first), each after checking that no parent is a symlink. */
  async remove(root: string, paths: readonly string[]): Promise<void> {
    for (const p of paths) {
      await assertRealParents(root, p, false);
      const target = encodePath(join(root, p));
      const st = await lstat(target).catch(() => undefined);
      if (st === undefined) continue;
      if (st.isDirectory()) await rmdir(target);
      else await unlink(target);
    }
  }

  /** Moves each path aside, to PATH + suffix in the same directory (a directory with all it holds). */
  async moveAside(root: string, paths: readonly string[], suffix: string): Promise<void> {
    for (const p of paths) {
      await assertRealParents(root, p, false);
      await rename(encodePath(join(root, p)), encodePath(join(root, `${p}${suffix}`)));
    }
  }

  /**
   * Each existing parent of a path about to be extracted is a real directory, or is extracted as one
   * first. Parents are shared by many paths: each is looked at once.
   */
  async assertWritable(
    root: string,
    paths: readonly string[],
    extractedType: (path: string) => string | undefined,
  ): Promise<void> {
    const extracting = new Set(paths);
    const seen = new Map<string, Promise<Stats | undefined>>();
    const look = (q: string) => {
      let st = seen.get(q);
      if (st === undefined) {
        st = lstat(encodePath(join(root, q))).catch(() => undefined);
        seen.set(q, st);
      }
      return st;
    };
    for (const path of paths) {
      const parts = path.split('/').filter(Boolean);
      for (let i = 1; i < parts.length; i++) {
        const q = `/${parts.slice(0, i).join('/')}`;
        const st = await look(q);
        if (st === undefined) {
          if (extracting.has(q) && extractedType(q) !== 'd')
            throw new UnsafePathError(join(root, path), `${q} would not be a directory`);
          continue;
        }
        if (!st.isDirectory())
          throw new UnsafePathError(join(root, path), `${join(root, q)} is not a directory (a symlink?)`);
      }
    }
  }

  /**
   * Streams `paths` of the tree `from` into the tree `to`: `tar --create` writes into a FIFO that `tar
   * --extract` reads, so the bytes are written once, into the target, and no shell joins the two. When
   * one side fails, the other is cancelled (else it would wait on the FIFO for ever).
   */
  async stream(
    from: string,
    to: string,
    paths: readonly string[],
    context?: OperationContext,
    meanwhile?: () => void,
  ): Promise<void> {
    if (paths.length === 0) {
      meanwhile?.();
      return;
    }
    const work = await mkdtemp(join(tmpdir(), 'imgbased-tar-diff-'));
    try {
      const list = join(work, 'list');
      const fifo = join(work, 'stream');
      await writeFile(list, nulList(paths.map((p) => p.slice(1))));
      await this.runner.run({ argv: ['mkfifo', '--mode=600', '--', fifo], mutates: true }, context);
      // One signal for both sides: the operation's cancel, or the other side's failure.
      const abort = new AbortController();
      const outer = context?.signal;
      const forward = () => abort.abort(outer?.reason);
      if (outer?.aborted) forward();
      outer?.addEventListener('abort', forward, { once: true });
      const side: OperationContext = { ...context, signal: abort.signal };
      let failure: { error: unknown } | undefined;
      const guard = (run: Promise<unknown>) =>
        run.catch((error: unknown) => {
          failure ??= { error };
          abort.abort(error);
        });
      const create = ['--create', '--file', fifo, ...FIFO_RECORDS, ...TAR_KEEP, '--no-recursion', '-C', from];
      const extract = ['--extract', '--file', fifo, ...FIFO_RECORDS, '--read-full-records', ...TAR_KEEP];
      const both = Promise.all([
        guard(this.tar([...create, '--null', '--verbatim-files-from', '--files-from', list], side)),
        guard(this.tar([...extract, ...TAR_RESTORE, '-C', to], side)),
      ]);
      // Both tars were started above: the main thread is free until they end.
      meanwhile?.();
      await both;
      outer?.removeEventListener('abort', forward);
      if (failure !== undefined) throw failure.error;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Saves copies of the tree `from` into the tree `to` under other names: what each copy packs is
   * streamed into a staging directory inside `to` (the same file system, so hard links, owners, xattrs
   * and ACLs come along as tar keeps them), then moved to its name. The staging directory goes after.
   */
  async saveCopies(from: string, to: string, copies: readonly SavedCopy[], context?: OperationContext): Promise<void> {
    if (copies.length === 0) return;
    const staging = await mkdtemp(join(to, '.imgbased-save-'));
    try {
      const pack = [...new Set(copies.flatMap((c) => c.pack))].sort();
      await this.stream(from, staging, pack, context);
      for (const copy of copies) {
        await assertRealParents(to, copy.to, false);
        // (A file of that name is replaced, as `cp` would; a directory of that name refuses it.)
        await rename(encodePath(join(staging, copy.from)), encodePath(join(to, copy.to)));
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Creates a file that must not exist yet (never through a symlink). */
  async writeNew(path: string, text: string): Promise<void> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(path, flags, 0o600);
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
  }

  async readText(path: string): Promise<string> {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  }

  async tar(args: string[], context?: OperationContext): Promise<void> {
    await this.runner.run({ argv: ['tar', ...args], mutates: true }, context);
  }
}

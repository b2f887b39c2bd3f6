import type { ConflictPolicy, PersistencePolicy } from '../contracts/persistence.js';

/** `/etc/` → `/etc`, `/etc/./ssh` → `/etc/ssh`; rejects relative paths and `..`. */
export function normalizeTreePath(path: string): string {
  // A relative path is a mistake in a policy, not a request for the tree's root: refuse it.
  if (!path.startsWith('/')) throw new Error(`'${path}' is not an absolute path`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new Error(`'..' in path '${path}'`);
  return `/${parts.join('/')}`;
}

function globToRegExp(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

/**
 * A predicate for the policy's excludes: true for an excluded path or anything below one.
 * Paths are absolute inside the tree (`/etc/ssh/ssh_host_rsa_key`).
 */
export function excludeMatcher(excludes: readonly string[]): (path: string) => boolean {
  if (excludes.length === 0) return () => false;
  const re = new RegExp(`^(?:${excludes.map((e) => globToRegExp(normalizeTreePath(e))).join('|')})(?:/.*)?$`);
  return (path) => re.test(path);
}

/** True when `path` is `root` or below it. */
export function isUnder(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/** The conflict policy for a path: the longest matching rule, else the default. */
export function conflictPolicyFor(policy: PersistencePolicy, path: string): ConflictPolicy {
  let best: { length: number; onConflict: ConflictPolicy } | undefined;
  for (const rule of policy.conflictRules ?? []) {
    const root = normalizeTreePath(rule.path);
    if (isUnder(path, root) && (best === undefined || root.length > best.length)) {
      best = { length: root.length, onConflict: rule.onConflict };
    }
  }
  return best?.onConflict ?? policy.onConflict;
}

/** The policy's paths, normalised, without duplicates or paths below another one, sorted. */
export function persistedRoots(policy: PersistencePolicy): string[] {
  const all = [...new Set(policy.paths.map(normalizeTreePath))].sort();
  return all.filter((p) => !all.some((q) => q !== p && isUnder(p, q)));
}

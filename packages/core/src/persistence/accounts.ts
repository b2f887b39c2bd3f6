import type { ConflictPolicy } from '../contracts/persistence.js';

/** The account databases merged by name rather than copied as files. */
export const ACCOUNT_FILES = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'] as const;
export type AccountFile = (typeof ACCOUNT_FILES)[number];

interface Shape {
  readonly fields: readonly string[];
  /** Index of the numeric id that must be unique (uid, gid), if any. */
  readonly id?: number;
  /** Comma-separated member lists, merged as sets. */
  readonly lists: readonly number[];
}
const SHAPES: Record<AccountFile, Shape> = {
  '/etc/passwd': { fields: ['name', 'password', 'uid', 'gid', 'gecos', 'home', 'shell'], id: 2, lists: [] },
  '/etc/group': { fields: ['name', 'password', 'gid', 'members'], id: 2, lists: [3] },
  '/etc/shadow': {
    fields: ['name', 'hash', 'lastchange', 'min', 'max', 'warn', 'inactive', 'expire', 'reserved'],
    lists: [],
  },
  '/etc/gshadow': { fields: ['name', 'password', 'admins', 'members'], lists: [2, 3] },
};

export interface AccountConflict {
  readonly path: AccountFile;
  readonly reason: string;
  /** Collisions (a name or id the admin added that the new base uses) never let the admin's entry win. */
  readonly collision: boolean;
}

export interface AccountMerge {
  /** The merged file. Equals `next` when there is nothing to carry. */
  readonly text: string;
  readonly changed: boolean;
  readonly conflicts: readonly AccountConflict[];
  /** Names of entries the admin added that were left out (a name or id the new base uses). */
  readonly leftOut?: readonly string[] | undefined;
}

/** The database whose entries a shadow file holds the secrets of: their entries go together. */
const COMPANION: Partial<Record<AccountFile, AccountFile>> = {
  '/etc/shadow': '/etc/passwd',
  '/etc/gshadow': '/etc/group',
};

export type AccountTexts = {
  readonly base: string | undefined;
  readonly admin: string | undefined;
  readonly next: string | undefined;
};

type Entries = Map<string, string[]>;

function parse(text: string | undefined): Entries {
  const entries: Entries = new Map();
  for (const line of (text ?? '').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const name = fields[0]!;
    if (!entries.has(name)) entries.set(name, fields);
  }
  return entries;
}

const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a !== undefined && b !== undefined && a.join(':') === b.join(':');

function mergeList(base: string, admin: string, next: string): string {
  const split = (s: string) => s.split(',').filter(Boolean);
  const b = new Set(split(base));
  const a = new Set(split(admin));
  const out = split(next).filter((m) => !(b.has(m) && !a.has(m)));
  for (const m of a) if (!b.has(m) && !out.includes(m)) out.push(m);
  return out.join(',');
}

/**
 * Three-way merge of one account database by entry name, field by field:
 * - an entry the admin left alone takes the new base's version; one only the admin changed keeps the
 *   admin's fields; member lists are merged as sets (members the admin added or removed, on top of the new base's);
 * - a field both changed differently is a conflict, resolved by `policyFor` (`keep-admin` takes the admin's field);
 * - an entry the admin added is appended unless its name or id is already used by the new base: such a
 *   collision is a conflict whose entry is left out (the new base's accounts keep their ids; nothing is
 *   renumbered);
 * - an entry the admin deleted is deleted unless the new base changed it (a conflict);
 * - with a `companion` (shadow's passwd, gshadow's group), an entry the admin added whose companion entry
 *   was left out is left out too (a collision).
 * Under `fail`, conflicts are reported and the text is the new base's.
 */
export function mergeAccountFile(
  file: AccountFile,
  texts: AccountTexts,
  policy: ConflictPolicy,
  companion?: { readonly file: AccountFile; readonly leftOut: ReadonlySet<string> },
): AccountMerge {
  const shape = SHAPES[file];
  const next = texts.next ?? '';
  if ((texts.admin ?? '') === (texts.base ?? '')) return { text: next, changed: false, conflicts: [] };
  const base = parse(texts.base);
  const admin = parse(texts.admin);
  const result = parse(texts.next);
  const conflicts: AccountConflict[] = [];
  const keepAdmin = policy === 'keep-admin';
  const kind = file.slice('/etc/'.length);
  const leftOut: string[] = [];

  for (const [name, a] of admin) {
    const b = base.get(name);
    const n = result.get(name);
    if (b !== undefined) {
      if (same(a, b)) continue;
      if (n === undefined) {
        conflicts.push({
          path: file,
          reason: `${kind} entry '${name}' changed by the admin, removed by the new base`,
          collision: false,
        });
        if (keepAdmin) result.set(name, a);
        continue;
      }
      const width = Math.max(a.length, b.length, n.length);
      const merged: string[] = [];
      for (let i = 0; i < width; i++) {
        const [bf, af, nf] = [b[i] ?? '', a[i] ?? '', n[i] ?? ''];
        if (af === bf || af === nf) merged.push(nf);
        else if (nf === bf) merged.push(af);
        else if (shape.lists.includes(i)) merged.push(mergeList(bf, af, nf));
        else {
          conflicts.push({
            path: file,
            reason: `${kind} entry '${name}': ${shape.fields[i] ?? `field ${i + 1}`} changed by the admin and by the new base`,
            collision: false,
          });
          merged.push(keepAdmin ? af : nf);
        }
      }
      result.set(name, merged);
    } else if (n !== undefined) {
      if (same(a, n)) continue;
      conflicts.push({
        path: file,
        reason: `${kind} entry '${name}' added by the admin exists in the new base`,
        collision: true,
      });
      leftOut.push(name);
    } else if (companion?.leftOut.has(name)) {
      // A secret without its account would be an orphan line: it goes where its account went.
      conflicts.push({
        path: file,
        reason: `${kind} entry '${name}' added by the admin is left out with its ${companion.file.slice('/etc/'.length)} entry`,
        collision: true,
      });
      leftOut.push(name);
    } else {
      const id = shape.id === undefined ? undefined : a[shape.id];
      const holder =
        id === undefined ? undefined : [...result.values()].find((e) => shape.id !== undefined && e[shape.id] === id);
      if (holder !== undefined) {
        conflicts.push({
          path: file,
          reason: `${kind} entry '${name}' added by the admin has ${shape.fields[shape.id!]} ${id}, which the new base gives to '${holder[0]}'`,
          collision: true,
        });
        leftOut.push(name);
        continue;
      }
      result.set(name, a);
    }
  }
  for (const [name, b] of base) {
    if (admin.has(name)) continue;
    const n = result.get(name);
    if (n === undefined) continue;
    if (same(n, b)) result.delete(name);
    else {
      conflicts.push({
        path: file,
        reason: `${kind} entry '${name}' deleted by the admin, changed by the new base`,
        collision: false,
      });
      if (keepAdmin) result.delete(name);
    }
  }
  if (policy === 'fail' && conflicts.length > 0) return { text: next, changed: false, conflicts, leftOut };
  const text = [...result.values()].map((f) => f.join(':')).join('\n') + (result.size > 0 ? '\n' : '');
  return { text, changed: text !== next, conflicts, leftOut };
}

/**
 * Merges the account databases together (each with mergeAccountFile): passwd and group first, then
 * shadow and gshadow, where an entry the admin added is left out (a conflict) when its passwd or group
 * entry was, so that no secret is left without its account. Files missing from `texts` are not merged.
 */
export function mergeAccountDatabases(
  texts: Partial<Record<AccountFile, AccountTexts>>,
  policyFor: (file: AccountFile) => ConflictPolicy,
): Map<AccountFile, AccountMerge> {
  const merged = new Map<AccountFile, AccountMerge>();
  const order = [...ACCOUNT_FILES].sort(
    (a, b) => Number(COMPANION[a] !== undefined) - Number(COMPANION[b] !== undefined),
  );
  for (const file of order) {
    const own = texts[file];
    if (own === undefined) continue;
    const companionFile = COMPANION[file];
    const companion = companionFile === undefined ? undefined : merged.get(companionFile);
    merged.set(
      file,
      mergeAccountFile(
        file,
        own,
        policyFor(file),
        companion === undefined ? undefined : { file: companionFile!, leftOut: new Set(companion.leftOut) },
      ),
    );
  }
  return merged;
}

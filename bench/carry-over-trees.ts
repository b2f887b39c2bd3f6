// The trees and change sets of bench/carry-over-scale.ts, shared by the host (which builds the base
// image) and the guest (which changes its snapshots): the same 2,000-file change set on every size.

/** A change set: directories made, files written (edited or new), chmod'ed, removed. */
export interface ChangeSet {
  readonly mkdir: readonly string[];
  readonly write: readonly (readonly [string, string])[];
  readonly chmod: readonly string[];
  readonly remove: readonly string[];
}

const text = (i: number, size: number) => `${i} `.repeat(Math.ceil(size / `${i} `.length)).slice(0, size);

/** /etc: 2,000 configuration files in 20 directories. */
export const etcFile = (i: number) => `etc/app${i % 20}/file${i}.conf`;
/** /srv: `small` files in directories of 500 (a quarter with content, the rest empty). */
export const srvFile = (i: number) => `srv/data/d${Math.floor(i / 500)}/f${i}`;

/** Every file of the base with its content, in creation order. */
export function* baseFiles(small: number): Generator<[string, string]> {
  for (let i = 0; i < 2000; i++) yield [etcFile(i), text(i, 100 + ((i * 37) % 900))];
  for (let i = 0; i < small; i++) yield [srvFile(i), i % 4 === 0 ? text(i, 64 + ((i * 53) % 536)) : ''];
}

/**
 * The admin's 2,000 changes, on files every size has (the first 30,000 of /srv): 1,200 edits, 200
 * chmods, 300 deletions, 300 new files (100 in a new directory).
 */
export function adminChanges(small: number): ChangeSet {
  if (small < 30_000) throw new Error('the change set needs at least 30,000 files in /srv');
  const write: [string, string][] = [];
  for (let i = 0; i < 2000; i += 5) write.push([etcFile(i), `edited by the admin ${i}\n`]);
  for (let k = 0; k < 800; k++) write.push([srvFile(37 * k), `edited ${k}\n`]);
  for (let k = 0; k < 200; k++) write.push([`etc/app${k % 20}/admin-new-${k}.conf`, `new ${k}\n`]);
  for (let k = 0; k < 100; k++) write.push([`srv/data/admin-new/${k}`, `new ${k}\n`]);
  const chmod = Array.from({ length: 200 }, (_, k) => etcFile(10 * k + 1));
  const remove = Array.from({ length: 300 }, (_, k) => srvFile(37 * k + 5));
  return { mkdir: ['srv/data/admin-new'], write, chmod, remove };
}

/** The new base's own changes: 40 in /etc (some the admin's too: conflicts), 200 in /srv. */
export function newBaseChanges(): ChangeSet {
  const write: [string, string][] = [];
  for (let i = 3; i < 2000; i += 50) write.push([etcFile(i), `from the new image ${i}\n`]);
  for (let i = 0; i < 2000; i += 250) write.push([etcFile(i), `from the new image ${i}\n`]);
  for (let k = 0; k < 200; k++) write.push([srvFile(101 * k + 2), `from the new image ${k}\n`]);
  return { mkdir: [], write, chmod: [], remove: [] };
}

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAccountMerges } from './account-merge.js';

let work: string;
const trees = { oldBase: '', oldLayer: '', newLayer: '' };
const FILES = ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow'] as const;

async function tree(name: string, files: Record<(typeof FILES)[number], string>): Promise<string> {
  const dir = join(work, name);
  await mkdir(join(dir, 'etc'), { recursive: true });
  for (const [path, text] of Object.entries(files)) await writeFile(join(dir, path), text);
  return dir;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-account-merge-'));
  const base = {
    '/etc/passwd': 'root:x:0:0:root:/root:/bin/bash\n',
    '/etc/shadow': 'root:$6$base:19000:0:99999:7:::\n',
    '/etc/group': 'root:x:0:\n',
    '/etc/gshadow': 'root:::\n',
  };
  trees.oldBase = await tree('base', base);
  trees.oldLayer = await tree('layer', {
    '/etc/passwd': `${base['/etc/passwd']}alice:x:990:990::/home/alice:/bin/bash\n`,
    '/etc/shadow': `${base['/etc/shadow']}alice:$6$alice:19500:0:99999:7:::\n`,
    '/etc/group': `${base['/etc/group']}alice:x:990:\n`,
    '/etc/gshadow': `${base['/etc/gshadow']}alice:!::\n`,
  });
  trees.newLayer = await tree('new', {
    '/etc/passwd': `${base['/etc/passwd']}chrony:x:990:990::/:/sbin/nologin\n`,
    '/etc/shadow': `${base['/etc/shadow']}chrony:!!:19600::::::\n`,
    '/etc/group': `${base['/etc/group']}chrony:x:990:\n`,
    '/etc/gshadow': `${base['/etc/gshadow']}chrony:!::\n`,
  });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('planAccountMerges', () => {
  it('leaves no orphan shadow or gshadow line for a user or group left out of passwd or group', async () => {
    const { merges, conflicts } = await planAccountMerges(
      trees,
      { paths: ['/etc'], excludes: [], onConflict: 'keep-admin' },
      FILES,
    );
    const text = (file: string) => merges.find((m) => m.file === file)?.text;
    expect(text('/etc/shadow') ?? 'unchanged').not.toContain('alice');
    expect(text('/etc/gshadow') ?? 'unchanged').not.toContain('alice');
    // Each left-out entry is a conflict whose admin file is saved beside the merged one.
    expect(conflicts.map((c) => [c.path, c.resolution, c.savedAs])).toEqual([
      ['/etc/passwd', 'took-new-saved-admin', '/etc/passwd.imgsave'],
      ['/etc/shadow', 'took-new-saved-admin', '/etc/shadow.imgsave'],
      ['/etc/group', 'took-new-saved-admin', '/etc/group.imgsave'],
      ['/etc/gshadow', 'took-new-saved-admin', '/etc/gshadow.imgsave'],
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { mergeAccountDatabases, mergeAccountFile } from './accounts.js';
import { conflictPolicyFor, excludeMatcher, persistedRoots } from './policy.js';

const base = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/sbin/nologin\nold:x:50:50::/:/sbin/nologin\n';

describe('mergeAccountFile', () => {
  it('keeps users the admin added and the new base system accounts with their ids', () => {
    const admin = `${base}alice:x:1000:1000::/home/alice:/bin/bash\n`;
    const next = `${base}chrony:x:990:990::/:/sbin/nologin\n`;
    const merged = mergeAccountFile('/etc/passwd', { base, admin, next }, 'fail');
    expect(merged.conflicts).toEqual([]);
    expect(merged.text).toBe(`${next}alice:x:1000:1000::/home/alice:/bin/bash\n`);
  });

  it('reports an added user whose uid the new base uses, and never renumbers', () => {
    const admin = `${base}alice:x:990:990::/home/alice:/bin/bash\n`;
    const next = `${base}chrony:x:990:990::/:/sbin/nologin\n`;
    const merged = mergeAccountFile('/etc/passwd', { base, admin, next }, 'keep-admin');
    expect(merged.conflicts).toEqual([
      expect.objectContaining({
        collision: true,
        reason: expect.stringContaining("uid 990, which the new base gives to 'chrony'"),
      }),
    ]);
    expect(merged.text).toBe(next);
  });

  it('merges field by field: admin shell change plus new base gecos change', () => {
    const admin = base.replace('root:/root:/bin/bash', 'root:/root:/bin/zsh');
    const next = base.replace('root:x:0:0:root:', 'root:x:0:0:super user:');
    const merged = mergeAccountFile('/etc/passwd', { base, admin, next }, 'fail');
    expect(merged.conflicts).toEqual([]);
    expect(merged.text.split('\n')[0]).toBe('root:x:0:0:super user:/root:/bin/zsh');
  });

  it('a field changed on both sides follows the policy', () => {
    const admin = base.replace('/bin/bash', '/bin/zsh');
    const next = base.replace('/bin/bash', '/bin/fish');
    expect(mergeAccountFile('/etc/passwd', { base, admin, next }, 'keep-admin').text).toContain('/bin/zsh');
    expect(mergeAccountFile('/etc/passwd', { base, admin, next }, 'take-new-save-admin').text).toContain('/bin/fish');
    const failed = mergeAccountFile('/etc/passwd', { base, admin, next }, 'fail');
    expect(failed.text).toBe(next);
    expect(failed.conflicts[0]?.reason).toBe("passwd entry 'root': shell changed by the admin and by the new base");
  });

  it('merges group members as sets and honours deletions', () => {
    const gbase = 'wheel:x:10:root\nold:x:50:\n';
    const gadmin = 'wheel:x:10:root,alice\n';
    const gnext = 'wheel:x:10:root,chrony\nold:x:50:\n';
    const merged = mergeAccountFile('/etc/group', { base: gbase, admin: gadmin, next: gnext }, 'fail');
    expect(merged.text).toBe('wheel:x:10:root,chrony,alice\n');
  });

  it('changes nothing when the admin left the file alone', () => {
    const next = `${base}x:x:5:5::/:/bin/sh\n`;
    expect(mergeAccountFile('/etc/passwd', { base, admin: base, next }, 'fail')).toEqual({
      text: next,
      changed: false,
      conflicts: [],
    });
  });
});

describe('mergeAccountDatabases', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\n';
  const shadow = 'root:$6$base:19000:0:99999:7:::\n';
  const group = 'root:x:0:\n';
  const gshadow = 'root:::\n';
  const texts = {
    '/etc/passwd': {
      base: passwd,
      admin: `${passwd}alice:x:990:990::/home/alice:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n`,
      next: `${passwd}chrony:x:990:990::/:/sbin/nologin\n`,
    },
    '/etc/shadow': {
      base: shadow,
      admin: `${shadow}alice:$6$alice:19500:0:99999:7:::\nbob:$6$bob:19500:0:99999:7:::\n`,
      next: `${shadow}chrony:!!:19600::::::\n`,
    },
    '/etc/group': {
      base: group,
      admin: `${group}alice:x:990:\nbob:x:1001:\n`,
      next: `${group}chrony:x:990:\n`,
    },
    '/etc/gshadow': { base: gshadow, admin: `${gshadow}alice:!::\nbob:!::\n`, next: `${gshadow}chrony:!::\n` },
  } as const;

  it('leaves out the shadow and gshadow lines of a user and a group that passwd and group left out', () => {
    const merged = mergeAccountDatabases(texts, () => 'keep-admin');
    expect(merged.get('/etc/passwd')?.text).toBe(`${texts['/etc/passwd'].next}bob:x:1001:1001::/home/bob:/bin/bash\n`);
    expect(merged.get('/etc/shadow')?.text).toBe(`${texts['/etc/shadow'].next}bob:$6$bob:19500:0:99999:7:::\n`);
    expect(merged.get('/etc/group')?.text).toBe(`${texts['/etc/group'].next}bob:x:1001:\n`);
    expect(merged.get('/etc/gshadow')?.text).toBe(`${texts['/etc/gshadow'].next}bob:!::\n`);
    expect(merged.get('/etc/shadow')?.conflicts).toEqual([
      {
        path: '/etc/shadow',
        reason: "shadow entry 'alice' added by the admin is left out with its passwd entry",
        collision: true,
      },
    ]);
    expect(merged.get('/etc/gshadow')?.conflicts).toEqual([
      expect.objectContaining({ reason: "gshadow entry 'alice' added by the admin is left out with its group entry" }),
    ]);
  });

  it('merges a file alone as before when its companion is not carried', () => {
    const merged = mergeAccountDatabases({ '/etc/shadow': texts['/etc/shadow'] }, () => 'keep-admin');
    expect(merged.get('/etc/shadow')?.text).toContain('alice:$6$alice:');
    expect(merged.has('/etc/passwd')).toBe(false);
  });
});

describe('policy helpers', () => {
  it('matches excludes with rsync-like globs, anchored, with everything below', () => {
    const excluded = excludeMatcher(['/etc/ssh/*_key', '/etc/selinux/**/policy.*', '/root/.cache']);
    expect(excluded('/etc/ssh/ssh_host_rsa_key')).toBe(true);
    expect(excluded('/etc/ssh/ssh_host_rsa_key.pub')).toBe(false);
    expect(excluded('/etc/selinux/targeted/policy/policy.33')).toBe(true);
    expect(excluded('/root/.cache/x/y')).toBe(true);
    expect(excluded('/root/.cachex')).toBe(false);
  });

  it('picks the longest conflict rule and drops nested roots', () => {
    const policy = {
      paths: ['/etc/', '/etc/ssh', '/root'],
      excludes: [],
      onConflict: 'fail' as const,
      conflictRules: [
        { path: '/etc', onConflict: 'keep-admin' as const },
        { path: '/etc/ssh', onConflict: 'take-new-save-admin' as const },
      ],
    };
    expect(conflictPolicyFor(policy, '/etc/ssh/sshd_config')).toBe('take-new-save-admin');
    expect(conflictPolicyFor(policy, '/etc/sshx')).toBe('keep-admin');
    expect(conflictPolicyFor(policy, '/root/.bashrc')).toBe('fail');
    expect(persistedRoots(policy)).toEqual(['/etc', '/root']);
  });
});

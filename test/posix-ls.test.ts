// ls and rm for the POSIX kinds, each test in private IPC and mount
// namespaces with its own /dev/mqueue and /dev/shm. util-linux here is
// older than 2.41 (lsipc without POSIX views; checked below), so the
// listings are compared against the files in /dev/mqueue and /dev/shm
// themselves and against what a Python ctypes peer reports.
import { describe, expect, it } from 'vitest';
import { inPosixNamespace } from './helpers/posix.js';
import { run } from './helpers/run.js';

type Rec = Record<string, string | number | null>;
const json = <T = Record<string, Rec[]>>(t: string | undefined): T => {
  if (t === undefined) throw new Error('section missing');
  return JSON.parse(t) as T;
};

const lsipcHasPosix = (() => {
  const v = /(\d+)\.(\d+)/.exec(run('lsipc', ['--version']).stdout);
  return v !== null && (Number(v[1]) > 2 || (Number(v[1]) === 2 && Number(v[2]) >= 41));
})();

describe('ls pmq/pshm/psem', () => {
  it('lists what ipcctl and Python made, as the files in /dev/mqueue and /dev/shm and Python see it', () => {
    const r = inPosixNamespace(`
      $IPCCTL pmq create /jobs -m 0640 --max-msgs 4 --msg-size 100 >/dev/null
      $IPCCTL pmq send /jobs -p 2 hello; $IPCCTL pmq send /jobs -p 9 abc
      $PY $PEER pmq_create /py 3 50; $PY $PEER pmq_send /py 1:00ff
      $IPCCTL pshm create /frame --size 5000 >/dev/null
      $PY $PEER pshm_create /pyseg 123
      $IPCCTL psem create /slots --value 3 -m 0644 >/dev/null
      $PY $PEER psem_create /pysem 11
      setpriv --reuid=65534 --regid=65534 --clear-groups $IPCCTL psem create /nobodys --value 1 >/dev/null
      echo @@json; $IPCCTL ls posix --json
      echo @@bare; $IPCCTL ls --json
      echo @@files; for f in /dev/mqueue/* /dev/shm/*; do echo "$(basename $f) $(stat -c '%a %u %s' $f) $(cat $f 2>/dev/null | head -c 5 | tr -d '\\0' | tr -c 'A-Z:' '.')"; done
      echo @@qsize; cat /dev/mqueue/jobs
      echo @@attr; $PY $PEER pmq_attr /jobs
      echo @@pyval; $PY $PEER psem_value /pysem
      echo @@table; $IPCCTL ls pmq
      echo @@lsipc; lsipc --version
    `);
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r.sections.json);
    expect(Object.keys(doc)).toEqual(['pmq', 'pshm', 'psem']);
    const files = Object.fromEntries(
      r.sections
        .files!.trim()
        .split('\n')
        .map((l) => [l.split(' ')[0], l.split(' ').slice(1)]),
    );
    // Queues: names, modes, owners, bytes (QSIZE) and message counts (mq_getattr).
    expect(doc.pmq!.map((q) => q.name)).toEqual(['/jobs', '/py']);
    const jobs = doc.pmq!.find((q) => q.name === '/jobs')!;
    expect(jobs).toMatchObject({ mode: '0640', uid: 0, usedbytes: 8, msgs: 2, maxmsg: 4, msgsize: 100 });
    expect(files.jobs![0]).toBe('640');
    expect(r.sections.qsize).toMatch(/^QSIZE:8\s/);
    expect(JSON.parse(r.sections.attr!)).toMatchObject({ curmsgs: jobs.msgs, maxmsg: 4, msgsize: 100 });
    expect(doc.pmq!.find((q) => q.name === '/py')).toMatchObject({ mode: '0600', usedbytes: 2, msgs: 1 });
    expect(Object.keys(jobs)).toEqual(['name', 'mode', 'uid', 'gid', 'usedbytes', 'msgs', 'maxmsg', 'msgsize', 'mtime', 'ctime']);
    // Segments: every regular file but sem.*, with its size.
    expect(doc.pshm!.map((s) => [s.name, s.size, s.mode])).toEqual([
      ['/frame', 5000, '0600'],
      ['/pyseg', 123, '0600'],
    ]);
    expect(files.frame![2]).toBe('5000');
    // Semaphores: sem.NAME files, with the value sem_getvalue gives.
    expect(doc.psem!.map((s) => [s.name, s.value, s.mode, s.uid])).toEqual([
      ['/nobodys', 1, '0600', 65534],
      ['/pysem', 11, '0600', 0],
      ['/slots', 3, '0644', 0],
    ]);
    expect(r.sections.pyval!.trim()).toBe('11');
    expect(files['sem.slots']).toEqual(['644', '0', '32', expect.any(String)]);
    // A bare ls has every kind, System V first; no libc, so no message count there.
    const bare = json(r.sections.bare);
    expect(Object.keys(bare)).toEqual(['msgq', 'shm', 'sem', 'pmq', 'pshm', 'psem']);
    expect(bare.pmq!.find((q) => q.name === '/jobs')).toMatchObject({ usedbytes: 8, msgs: null });
    // lsipc 2.41's pmq columns, in its order.
    expect(r.sections.table!.split('\n')[0]).toMatch(/^NAME\s+PERMS\s+OWNER\s+MTIME\s+USED\s+MSGS$/);
    expect(r.sections.table).toMatch(/^\/jobs\s+0640\s+root\s+\d{4}-\S+ \S+\s+8B\s+2$/m);
    if (!lsipcHasPosix) expect(r.sections.lsipc).toMatch(/util-linux 2\.(3\d|40)\b/);
  });

  it('-o chooses and orders columns, +COL adds; --raw and -n parse as scripts would; -b gives bytes', () => {
    const r = inPosixNamespace(`
      $IPCCTL pshm create /a --size 2M >/dev/null; $IPCCTL pshm create "/b" --size 10 >/dev/null
      $IPCCTL psem create /s --value 5 >/dev/null
      echo @@o; $IPCCTL ls pshm -o SIZE,NAME
      echo @@raw; $IPCCTL ls pshm -o NAME,SIZE --raw -n -b
      echo @@plus; $IPCCTL ls psem -o +UID,GID --raw
      echo @@json; $IPCCTL --json ls psem -o NAME,SVAL
      echo @@read; $IPCCTL ls pshm -o NAME,SIZE --raw -n -b | while read -r name size; do echo "$name=$size"; done
      echo @@bad; $IPCCTL ls pshm -o NAME,NOPE; echo "rc=$?"
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.sections.o).toBe('SIZE  NAME\n2.0M  /a\n 10B  /b\n');
    expect(r.sections.raw).toBe('/a 2097152\n/b 10\n');
    expect(r.sections.plus!.split('\n')[0]).toBe('NAME PERMS OWNER MTIME SVAL UID GID');
    expect(r.sections.plus!.split('\n')[1]).toMatch(/^\/s 0600 root \S+\\x20\S+ 5 0 0$/);
    expect(json<{ psem: Rec[] }>(r.sections.json).psem).toEqual([{ name: '/s', value: 5 }]);
    expect(r.sections.read).toBe('/a=2097152\n/b=10\n');
    expect(r.sections.bad).toMatch(/rc=2\n+$/);
    expect(r.stderr).toMatch(/^ipcctl: ls: unknown column 'NOPE'/m);
  });

  it('a plain ls does not load ffi-rs even with POSIX objects there; ls pmq does (for MSGS)', () => {
    const r = inPosixNamespace(`
      $IPCCTL pmq create /q >/dev/null; $IPCCTL pshm create /m --size 1 >/dev/null; $IPCCTL psem create /s >/dev/null
      echo @@plain; LD_DEBUG=files $IPCCTL ls --json 2>&1 >/dev/null | grep -c ffi-rs
      echo @@pshm; LD_DEBUG=files $IPCCTL ls pshm 2>&1 >/dev/null | grep -c ffi-rs
      echo @@pmq; LD_DEBUG=files $IPCCTL ls pmq 2>&1 >/dev/null | grep -c ffi-rs
      true
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.sections.plain!.trim()).toBe('0');
    expect(r.sections.pshm!.trim()).toBe('0');
    expect(Number(r.sections.pmq!.trim())).toBeGreaterThan(0);
  });

  it('without an mqueue mount, ls pmq says so and how to mount it', () => {
    const r = inPosixNamespace(`
      umount /dev/mqueue
      echo @@pmq; $IPCCTL ls pmq 2>&1; echo "rc=$?"
      echo @@bare; $IPCCTL ls --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["pmq"])'
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.sections.pmq).toMatch(/^ipcctl: ls pmq: no mqueue file system is mounted at \/dev\/mqueue.*mount -t mqueue none \/dev\/mqueue\)\nrc=1\n$/);
    expect(r.sections.bare!.trim()).toBe('[]');
  });

  it('--limits shows the mqueue sysctls of this namespace and RLIMIT_MSGQUEUE with what is used; SEMVMX', () => {
    const r = inPosixNamespace(`
      echo 7 > /proc/sys/fs/mqueue/queues_max
      $IPCCTL pmq create /a --max-msgs 2 --msg-size 1000 >/dev/null; $IPCCTL pmq create /b >/dev/null
      $IPCCTL pmq send /b one; $IPCCTL pmq send /b two; $IPCCTL pmq send /b three
      echo @@json; $IPCCTL ls pmq --limits --json
      echo @@all; $IPCCTL ls --limits --json
      echo @@q; ulimit -q
      echo @@table; $IPCCTL ls --limits
    `);
    expect(r.code, r.stderr).toBe(0);
    const rows = json<{ limits: Rec[] }>(r.sections.json).limits;
    const row = (n: string) => rows.find((x) => x.resource === n)!;
    expect(rows.map((x) => x.resource)).toEqual(['queues_max', 'msg_max', 'msgsize_max', 'msg_default', 'msgsize_default', 'RLIMIT_MSGQUEUE']);
    expect(row('queues_max')).toMatchObject({ limit: 7, used: 2, percent: 28.57 });
    expect(row('msg_max')).toMatchObject({ used: 3 });
    const q = r.sections.q!.trim();
    // The kernel's charge: per slot a msg_msg and a tree node (48 bytes each on 64-bit) plus the payload.
    const charge = (n: number, size: number) => n * 48 + n * 48 + n * size;
    expect(row('RLIMIT_MSGQUEUE')).toMatchObject({ limit: q === 'unlimited' ? null : Number(q), used: charge(2, 1000) + charge(10, 8192) });
    const all = json<{ limits: Rec[] }>(r.sections.all).limits.map((x) => x.resource);
    expect(all).toContain('semvmx');
    expect(all).toContain('queues_max');
    expect(r.sections.table).toMatch(/^semvmx\s.*\s32767\s+-\s+-$/m);
  });

  it('rm pmq/pshm/psem by name and rm --all --kind; a bare rm --all leaves them', () => {
    const r = inPosixNamespace(`
      $IPCCTL pmq create /q1 >/dev/null; $IPCCTL pmq create /q2 >/dev/null
      $IPCCTL pshm create /m --size 1 >/dev/null; $IPCCTL psem create /s >/dev/null
      ipcmk -Q >/dev/null
      echo @@bare; $IPCCTL rm --all --yes; echo "rc=$?"
      echo @@left; ls /dev/mqueue /dev/shm | tr '\\n' ' '; echo
      echo @@named; $IPCCTL rm pmq /q1 q2; echo "rc=$?"
      echo @@missing; $IPCCTL rm pmq /q1 2>&1; echo "rc=$?"
      echo @@dry; $IPCCTL rm --all --kind pshm,psem --dry-run; echo "rc=$?"
      echo @@all; $IPCCTL rm --all --kind pshm,psem; echo "rc=$?"
      echo @@after; ls -A /dev/mqueue /dev/shm | tr '\\n' ' '; echo
      echo @@mixed; $IPCCTL rm --all --kind shm,pmq 2>&1; echo "rc=$?"
    `);
    expect(r.code, r.stderr).toBe(0);
    const s = r.sections;
    expect(s.bare).toMatch(/^removed msgq \d+/);
    expect(s.left).toContain('q1');
    expect(s.left).toContain('sem.s');
    expect(s.named).toBe('rc=0\n');
    expect(s.missing).toBe('ipcctl: rm pmq /q1: ENOENT, no such queue\nrc=4\n');
    expect(s.dry).toMatch(/^TYPE\s+NAME\npshm\s+\/m\npsem\s+\/s\nrc=0\n$/);
    expect(s.all).toBe('removed pshm /m\nremoved psem /s\nrc=0\n');
    expect(s.after!.replace(/\s+/g, ' ').trim()).toBe('/dev/mqueue: /dev/shm:');
    expect(s.mixed).toMatch(/separate calls\nrc=2\n+$/);
  });
});

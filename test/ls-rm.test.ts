// ipcctl ls and rm against the kernel and util-linux, each test in its own
// IPC namespace (unshare --ipc): what ipcmk makes, ipcctl lists as lsipc
// does; what ipcctl removes, ipcs no longer shows.
import { describe, expect, it } from 'vitest';
import { inIpcNamespace, permsToOctal } from './helpers/ns.js';
import { ipcctl } from './helpers/run.js';

type Rec = Record<string, string | number | null>;

/** Last number on ipcmk's "Message queue id: 3" line. */
const ID = `| grep -o '[0-9]*$'`;

function json<T = Record<string, Rec[]>>(text: string | undefined): T {
  if (text === undefined) throw new Error('section missing');
  return JSON.parse(text) as T;
}

describe('ls against lsipc', () => {
  it('lists what ipcmk made with the ids, keys, owners, modes and sizes lsipc reports', () => {
    const r = inIpcNamespace(`
      q1=$(ipcmk -Q -p 0640 ${ID})
      q2=$(setpriv --reuid=65534 --regid=65534 --clear-groups ipcmk -Q -p 0600 ${ID})
      perl -e 'msgsnd($ARGV[0], pack("l! a*", 1, "hello"), 0) or die; msgsnd($ARGV[0], pack("l! a*", 2, "abc"), 0) or die' $q1
      m=$(ipcmk -M 5000 -p 0600 ${ID})
      s=$(ipcmk -S 3 -p 0660 ${ID})
      echo @@ipcctl; $IPCCTL ls --json
      echo @@table; $IPCCTL ls
      echo @@q; lsipc -q -J -b -o KEY,ID,OWNER,PERMS,USEDBYTES,MSGS,UID,GID,CUID,CGID
      echo @@m; lsipc -m -J -b -o KEY,ID,OWNER,PERMS,SIZE,NATTCH,CPID,LPID,UID,GID
      echo @@s; lsipc -s -J -b -o KEY,ID,OWNER,PERMS,NSEMS,UID,GID
    `);
    expect(r.code, r.stderr).toBe(0);
    const ours = json(r.sections.ipcctl);
    const queues = json<{ messages: Rec[] }>(r.sections.q).messages;
    const segments = json<{ sharedmemory: Rec[] }>(r.sections.m).sharedmemory;
    const sets = json<{ semaphores: Rec[] }>(r.sections.s).semaphores;
    expect(ours.msgq).toHaveLength(2);
    expect(ours.shm).toHaveLength(1);
    expect(ours.sem).toHaveLength(1);
    expect(queues).toHaveLength(2);

    const common = (theirs: Rec, mine: Rec | undefined) => {
      expect(mine, `id ${theirs.id}`).toBeDefined();
      expect(mine!.key).toBe(theirs.key);
      expect(mine!.mode).toBe(permsToOctal(String(theirs.perms)));
      expect(mine!.uid).toBe(Number(theirs.uid));
      expect(mine!.gid).toBe(Number(theirs.gid));
    };
    for (const q of queues) {
      const mine = ours.msgq!.find((o) => o.id === Number(q.id));
      common(q, mine);
      expect(mine!.cuid).toBe(Number(q.cuid));
      expect(mine!.cgid).toBe(Number(q.cgid));
      expect(mine!.qnum).toBe(Number(q.msgs));
      expect(mine!.cbytes).toBe(Number(q.usedbytes));
    }
    for (const m of segments) {
      const mine = ours.shm!.find((o) => o.id === Number(m.id));
      common(m, mine);
      expect(mine).toMatchObject({ size: Number(m.size), nattch: Number(m.nattch), cpid: Number(m.cpid), lpid: Number(m.lpid) });
    }
    for (const s of sets) {
      const mine = ours.sem!.find((o) => o.id === Number(s.id));
      common(s, mine);
      expect(mine!.nsems).toBe(Number(s.nsems));
    }
    // The queue with two messages, and typed values: numbers, strings, null.
    const full = ours.msgq!.find((q) => q.qnum === 2)!;
    expect(full).toMatchObject({ mode: '0640', cbytes: 8, rtime: null, lrpid: 0 });
    expect(typeof full.stime).toBe('number');
    expect(full.key).toMatch(/^0x[0-9a-f]{8}$/);
    expect(Object.keys(full)).toEqual([
      'id',
      'key',
      'mode',
      'uid',
      'gid',
      'cuid',
      'cgid',
      'qnum',
      'cbytes',
      'qbytes',
      'lspid',
      'lrpid',
      'stime',
      'rtime',
      'ctime',
    ]);
    expect(Object.keys(ours.shm![0]!)).toEqual([
      'id',
      'key',
      'mode',
      'uid',
      'gid',
      'cuid',
      'cgid',
      'size',
      'nattch',
      'cpid',
      'lpid',
      'atime',
      'dtime',
      'ctime',
    ]);
    expect(Object.keys(ours.sem![0]!)).toEqual(['id', 'key', 'mode', 'uid', 'gid', 'cuid', 'cgid', 'nsems', 'otime', 'ctime']);

    // The human table: a TYPE column, owner names (the nobody queue), human sizes.
    const table = r.sections.table!;
    expect(table.split('\n')[0]).toMatch(/^TYPE\s+ID\s+KEY\s+PERMS\s+OWNER/);
    const q2 = lineOf(table, `msgq`, (l) => /\bnobody\b/.test(l));
    expect(q2).toMatch(/0600/);
    expect(lineOf(table, 'shm', () => true)).toMatch(/\b4\.9K\b/);
  });

  it('shows one kind without a TYPE column, and filters by key, owner, creator and age', () => {
    const r = inIpcNamespace(`
      perl -e 'use IPC::SysV qw(IPC_CREAT); msgget(0x5eed01, IPC_CREAT|0600) // die; shmget(0x5eed01, 4096, IPC_CREAT|0600) // die'
      setpriv --reuid=65534 --regid=65534 --clear-groups ipcmk -Q >/dev/null
      ipcmk -S 2 >/dev/null
      $PY -c 'import sysv_ipc, os; m = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, size=4096); print(os.getpid())' > /tmp/ipcctl-creator.$$
      pid=$(cat /tmp/ipcctl-creator.$$); rm -f /tmp/ipcctl-creator.$$
      echo @@shm; $IPCCTL ls shm
      echo @@key; $IPCCTL ls --key 0x5eed01 --json
      echo @@owner; $IPCCTL ls --owner nobody --json
      echo @@creator; $IPCCTL ls --creator $pid --json
      echo @@old; $IPCCTL ls --older-than 1h --json
      echo @@new; $IPCCTL ls --older-than 0s --json
      echo @@pid; $IPCCTL ls shm --pid
      echo @@time; $IPCCTL ls msgq --time
    `);
    expect(r.code, r.stderr).toBe(0);
    const s = r.sections;
    expect(s.shm!.split('\n')[0]).toMatch(/^ID\s+KEY\s+PERMS\s+OWNER\s+SIZE\s+NATTCH/);
    expect(s.shm).not.toMatch(/msgq|TYPE/);
    const byKey = json(s.key);
    expect(byKey.msgq!.map((o) => o.key)).toEqual(['0x005eed01']);
    expect(byKey.shm!.map((o) => o.key)).toEqual(['0x005eed01']);
    expect(byKey.sem).toEqual([]);
    const byOwner = json(s.owner);
    expect(byOwner.msgq!.map((o) => o.uid)).toEqual([65534]);
    expect([...byOwner.shm!, ...byOwner.sem!]).toEqual([]);
    const byCreator = json(s.creator);
    expect(byCreator.shm).toHaveLength(1);
    expect([...byCreator.msgq!, ...byCreator.sem!]).toEqual([]);
    const old = json(s.old);
    expect([...old.msgq!, ...old.shm!, ...old.sem!]).toEqual([]);
    const all = json(s.new);
    expect([all.msgq!.length, all.shm!.length, all.sem!.length]).toEqual([2, 2, 1]);
    expect(s.pid!.split('\n')[0]).toMatch(/^ID\s+KEY\s+OWNER\s+CREATOR\s+CPID\s+LPID\s+COMMAND$/);
    expect(s.time!.split('\n')[0]).toMatch(/^ID\s+KEY\s+OWNER\s+SEND\s+RECV\s+CHANGE$/);
    expect(s.time).toMatch(/never/);
  });

  it('--limits agrees with /proc/sys/kernel (per namespace) and counts what is used', () => {
    const r = inIpcNamespace(`
      echo 4321 > /proc/sys/kernel/msgmni
      echo "250 640 32 128" > /proc/sys/kernel/sem
      ipcmk -Q >/dev/null; ipcmk -S 5 >/dev/null; ipcmk -S 7 >/dev/null; ipcmk -M 10000 >/dev/null
      echo @@json; $IPCCTL ls --limits --json
      echo @@table; $IPCCTL ls --limits
      echo @@sem; $IPCCTL ls sem --limits --json
      echo @@proc; for f in msgmax msgmnb msgmni shmmax shmall shmmni sem; do echo "$f $(cat /proc/sys/kernel/$f)"; done
    `);
    expect(r.code, r.stderr).toBe(0);
    const proc = Object.fromEntries(
      r.sections
        .proc!.trim()
        .split('\n')
        .map((l) => {
          const [name, ...values] = l.trim().split(/\s+/);
          return [name!, values];
        }),
    );
    const [semmsl, semmns, semopm, semmni] = proc.sem!;
    const expected: Record<string, string> = {
      msgmax: proc.msgmax![0]!,
      msgmnb: proc.msgmnb![0]!,
      msgmni: proc.msgmni![0]!,
      shmmax: proc.shmmax![0]!,
      shmall: proc.shmall![0]!,
      shmmni: proc.shmmni![0]!,
      semmsl: semmsl!,
      semmns: semmns!,
      semopm: semopm!,
      semmni: semmni!,
    };
    // Limits near 2^64 must come out with every digit: read them as text.
    const exact = r.sections.json!.replace(/"limit": ([0-9]+)/g, '"limit": "$1"');
    const rows = json<{ limits: Rec[] }>(exact).limits;
    // The System V rows (the POSIX ones are tested in posix-ls.test.ts), and SEMVMX, fixed in the kernel.
    expect(Object.fromEntries(rows.filter((l) => String(l.resource) in expected).map((l) => [l.resource, l.limit]))).toEqual(expected);
    expect(rows.find((l) => l.resource === 'semvmx')).toMatchObject({ limit: '32767', used: null });
    const row = (n: string) => rows.find((l) => l.resource === n)!;
    expect(row('msgmni')).toMatchObject({ limit: '4321', used: 1, percent: 0.02 });
    expect(row('semmni')).toMatchObject({ limit: '128', used: 2, percent: 1.56 });
    expect(row('semmns')).toMatchObject({ limit: '640', used: 12, percent: 1.88 });
    expect(row('shmmni')).toMatchObject({ used: 1 });
    expect(row('shmall')).toMatchObject({ used: 3 });
    expect(row('msgmax')).toMatchObject({ used: null, percent: null });
    expect(r.sections.table).toMatch(/^msgmni\s.*\s4321\s+1\s+0\.02%$/m);
    expect(json<{ limits: Rec[] }>(r.sections.sem).limits.map((l) => l.resource)).toEqual(['semmni', 'semmns', 'semmsl', 'semopm', 'semvmx']);
  });

  it('--summary agrees with ipcs -u', () => {
    const r = inIpcNamespace(`
      q=$(ipcmk -Q ${ID}); ipcmk -Q >/dev/null
      perl -e 'msgsnd($ARGV[0], pack("l! a*", 1, "hello"), 0) or die; msgsnd($ARGV[0], pack("l! a*", 1, "world!"), 0) or die' $q
      $PY -c 'import sysv_ipc; m = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, size=10000); m.write(b"x" * 10000); m.detach()'
      ipcmk -M 1M >/dev/null
      ipcmk -S 4 >/dev/null
      echo @@ours; $IPCCTL ls --summary --json
      echo @@text; $IPCCTL ls --summary
      echo @@ipcs; ipcs -u
    `);
    expect(r.code, r.stderr).toBe(0);
    const ipcs = r.sections.ipcs!;
    const num = (re: RegExp) => Number(re.exec(ipcs)![1]);
    const all = json<Record<string, Record<string, number>>>(r.sections.ours);
    // The System V totals (POSIX totals follow them; this namespace shares /dev/shm).
    const ours = { msgq: all.msgq, shm: all.shm, sem: all.sem };
    expect(ours).toEqual({
      msgq: { queues: num(/allocated queues = (\d+)/), messages: num(/used headers = (\d+)/), bytes: num(/used space = (\d+) bytes/) },
      shm: {
        segments: num(/segments allocated (\d+)/),
        pages: num(/pages allocated (\d+)/),
        resident: num(/pages resident\s+(\d+)/),
        swapped: num(/pages swapped\s+(\d+)/),
      },
      sem: { sets: num(/used arrays = (\d+)/), semaphores: num(/allocated semaphores = (\d+)/) },
    });
    // Not vacuous: these are the numbers the script made.
    expect(ours.msgq).toEqual({ queues: 2, messages: 2, bytes: 11 });
    expect(ours.shm!.pages).toBe(3 + 256);
    expect(ours.shm!.resident).toBeGreaterThanOrEqual(3);
    expect(r.sections.text).toMatch(/^msgq\s+2 queues, 2 messages/m);
  });
});

describe('rm', () => {
  it('removes what ipcmk made, by kind and ids and by key, so that ipcs shows none', () => {
    const r = inIpcNamespace(`
      q1=$(ipcmk -Q ${ID}); q2=$(ipcmk -Q ${ID}); m=$(ipcmk -M 4096 ${ID}); s=$(ipcmk -S 2 ${ID})
      perl -e 'use IPC::SysV qw(IPC_CREAT); msgget(0x5eed02, IPC_CREAT|0600) // die; semget(0x5eed02, 1, IPC_CREAT|0600) // die'
      echo @@before; ipcs
      $IPCCTL rm msgq $q1 $q2; echo "rc=$?"
      $IPCCTL rm shm $m; echo "rc=$?"
      $IPCCTL rm sem $s; echo "rc=$?"
      echo @@bykey; $IPCCTL --json rm -k 0x5eed02; echo "rc=$?"
      echo @@after; ipcs
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.sections.before!.match(/^0x/gm)).toHaveLength(6);
    expect(r.stdout.match(/rc=0/g)).toHaveLength(4);
    const byKey = JSON.parse(r.sections.bykey!.replace(/rc=\d+\n$/, '')) as { removed: Rec[]; failed: Rec[] };
    expect(byKey.removed.map((o) => [o.kind, o.key])).toEqual([
      ['msgq', '0x005eed02'],
      ['sem', '0x005eed02'],
    ]);
    expect(byKey.failed).toEqual([]);
    expect(r.sections.after).not.toMatch(/^0x/m);
  });

  it('--orphans removes only the segment nobody attached whose creator is gone; --dry-run removes nothing', () => {
    const r = inIpcNamespace(`
      tmp=$(mktemp -d)
      pids=""
      trap 'kill $pids 2>/dev/null; rm -rf "$tmp"' EXIT
      orphan=$(ipcmk -M 4096 ${ID})
      attached=$(ipcmk -M 4096 ${ID})
      ipcmk -Q >/dev/null; ipcmk -S 1 >/dev/null
      # A creator that lives on, detached: nattch 0 but not an orphan.
      $PY -c 'import sysv_ipc, time
m = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, size=4096); m.detach(); print(m.id, flush=True); time.sleep(60)' > "$tmp/alive" &
      pids="$pids $!"
      # A segment whose creator (ipcmk) is gone but that a process holds attached.
      $PY -c 'import sysv_ipc, sys, time
m = sysv_ipc.attach(int(sys.argv[1])); print("attached", flush=True); time.sleep(60)' $attached > "$tmp/holder" &
      pids="$pids $!"
      for i in $(seq 100); do [ -s "$tmp/alive" ] && [ -s "$tmp/holder" ] && break; sleep 0.1; done
      alive=$(cat "$tmp/alive")
      echo @@ids; echo "$orphan $alive $attached"
      # Fresh segments are no orphans (untouched for --older-than, default 1h): none yet.
      echo @@fresh; $IPCCTL ls --orphans --json
      echo @@ls; $IPCCTL ls --orphans --older-than 0s --json
      echo @@dry; $IPCCTL rm --all --orphans --older-than 0s --dry-run --json; echo "rc=$?"
      echo @@afterdry; $IPCCTL ls --json
      echo @@rm; $IPCCTL rm --all --orphans --older-than 0s; echo "rc=$?"
      echo @@after; $IPCCTL ls --json
    `);
    expect(r.code, r.stderr).toBe(0);
    const [orphan, alive, attached] = r.sections.ids!.trim().split(' ').map(Number);
    // Three different segments; the one whose creator lives on is detached
    // (nattch 0), so only its living creator keeps it off the orphan list.
    expect([orphan, alive, attached].every(Number.isInteger)).toBe(true);
    expect(new Set([orphan, alive, attached]).size).toBe(3);
    expect(json(r.sections.fresh).shm).toEqual([]);
    const listed = json(r.sections.ls);
    expect(listed.shm!.map((o) => o.id)).toEqual([orphan]);
    const dry = JSON.parse(r.sections.dry!.replace(/rc=\d+\n$/, '')) as { dryRun: boolean; wouldRemove: Rec[] };
    expect(dry.wouldRemove.map((o) => [o.kind, o.id])).toEqual([['shm', orphan]]);
    expect(r.sections.dry).toMatch(/rc=0/);
    const afterDry = json(r.sections.afterdry);
    expect(afterDry.shm!.map((o) => o.id).sort()).toEqual([orphan, alive, attached].sort());
    expect(afterDry.shm!.find((o) => o.id === alive)?.nattch).toBe(0);
    expect(r.sections.rm).toMatch(new RegExp(`^removed shm ${orphan} \\(key 0x[0-9a-f]{8}\\)\\nrc=0`));
    const after = json(r.sections.after);
    expect(after.shm!.map((o) => o.id).sort()).toEqual([alive, attached].sort());
    expect(after.msgq).toHaveLength(1);
    expect(after.sem).toHaveLength(1);
  });

  it('--all narrowed by kind, owner and age removes only what matches', () => {
    const r = inIpcNamespace(`
      mine=$(ipcmk -Q ${ID})
      theirs=$(setpriv --reuid=65534 --regid=65534 --clear-groups ipcmk -Q ${ID})
      theirseg=$(setpriv --reuid=65534 --regid=65534 --clear-groups ipcmk -M 4096 ${ID})
      s=$(ipcmk -S 1 ${ID})
      echo @@old; $IPCCTL rm --all --older-than 1h; echo "rc=$?"
      echo @@owner; $IPCCTL rm --all --kind msgq --owner nobody; echo "rc=$?"
      echo @@kind; $IPCCTL rm sem --all --json; echo "rc=$?"
      echo @@ids; echo "$mine $theirs $theirseg $s"
      echo @@after; $IPCCTL ls --json
    `);
    expect(r.code, r.stderr).toBe(0);
    const [mine, theirs, theirseg, s] = r.sections.ids!.trim().split(' ').map(Number);
    expect(r.sections.old).toBe('rc=0\n');
    expect(r.sections.owner).toMatch(new RegExp(`^removed msgq ${theirs} \\(key 0x[0-9a-f]{8}\\)\\nrc=0\\n$`));
    const kind = JSON.parse(r.sections.kind!.replace(/rc=\d+\n$/, '')) as { removed: Rec[] };
    expect(kind.removed.map((o) => [o.kind, o.id])).toEqual([['sem', s]]);
    const after = json(r.sections.after);
    expect(after.msgq!.map((o) => o.id)).toEqual([mine]);
    expect(after.shm!.map((o) => o.id)).toEqual([theirseg]);
    expect(after.sem).toEqual([]);
  });

  it('a reader that stops early (| head -1) stops the report, not the removal', () => {
    const r = inIpcNamespace(`
      # Enough lines (~100 KB) to overflow the pipe buffer, so that writes fail with EPIPE.
      perl -e 'use IPC::SysV qw(IPC_PRIVATE IPC_CREAT); for (1 .. 3000) { defined msgget(IPC_PRIVATE, IPC_CREAT | 0600) or die } semget(IPC_PRIVATE, 1, IPC_CREAT | 0600) // die'
      echo @@head; $IPCCTL rm --all --yes | head -1; echo "rc=\${PIPESTATUS[0]}"
      echo @@left; $IPCCTL ls --summary --json
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.sections.head).toMatch(/^removed msgq 0 .*\nrc=0\n$/);
    expect(json<Record<string, Record<string, number>>>(r.sections.left)).toMatchObject({ msgq: { queues: 0 }, sem: { sets: 0 } });
  });

  it('a bare --all on a terminal asks first: no keeps everything, yes removes it', () => {
    // script(1) gives rm a terminal; the answer is typed into it.
    const r = inIpcNamespace(`
      ipcmk -Q >/dev/null; ipcmk -S 2 >/dev/null
      echo @@no; printf 'n\\n' | timeout 20 script -qfec "$IPCCTL rm --all" /dev/null; echo "rc=$?"
      echo @@kept; $IPCCTL ls --summary --json
      echo @@yes; printf 'y\\n' | timeout 20 script -qfec "$IPCCTL rm --all" /dev/null; echo "rc=$?"
      echo @@gone; $IPCCTL ls --summary --json
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.sections.no).toMatch(/remove all 2 objects \(1 msgq, 1 sem\)\? \[y\/N\]/);
    expect(r.sections.no).toMatch(/nothing removed/);
    expect(json<Record<string, Record<string, number>>>(r.sections.kept)).toMatchObject({ msgq: { queues: 1 }, sem: { sets: 1 } });
    expect(r.sections.yes).toMatch(/removed msgq 0/);
    expect(r.sections.yes).toMatch(/rc=0/);
    expect(json<Record<string, Record<string, number>>>(r.sections.gone)).toMatchObject({ msgq: { queues: 0 }, sem: { sets: 0 } });
  });

  it('exit codes: 4 for a missing object (after removing the others), 2 for usage, 2 for a bare --all off a terminal', () => {
    const r = inIpcNamespace(`
      q=$(ipcmk -Q ${ID}); m=$(ipcmk -M 4096 ${ID})
      echo @@missing; $IPCCTL rm msgq 999999; echo "rc=$?"
      echo @@mixed; $IPCCTL rm msgq 999998 $q; echo "rc=$?"
      echo @@key; $IPCCTL rm -k 0x7eed0999; echo "rc=$?"
      echo @@wrongkind; $IPCCTL rm sem $m; echo "rc=$?"
      echo @@noid; $IPCCTL rm 3; echo "rc=$?"
      echo @@kindonly; $IPCCTL rm shm; echo "rc=$?"
      echo @@filter; $IPCCTL rm --orphans; echo "rc=$?"
      echo @@private; $IPCCTL rm -k private; echo "rc=$?"
      echo @@badkind; $IPCCTL rm queue 1; echo "rc=$?"
      echo @@bare; $IPCCTL rm --all < /dev/null; echo "rc=$?"
      echo @@still; $IPCCTL ls --json
      echo @@dryid; $IPCCTL rm shm $m 999997 --dry-run; echo "rc=$?"
      echo @@yes; $IPCCTL rm --all --yes; echo "rc=$?"
      echo @@empty; ipcs
    `);
    expect(r.code, r.stderr).toBe(0);
    const s = r.sections;
    expect(s.missing).toBe('rc=4\n');
    expect(r.stderr).toMatch(/^ipcctl: rm msgq 999999: EINVAL, no such queue$/m);
    expect(s.mixed).toBe('rc=4\n');
    expect(s.key).toBe('rc=4\n');
    expect(r.stderr).toMatch(/^ipcctl: rm key 0x7eed0999: ENOENT, no object has that key$/m);
    expect(s.wrongkind).toBe('rc=4\n');
    expect(r.stderr).toMatch(/^ipcctl: rm sem \d+: EINVAL, no such semaphore set$/m);
    for (const name of ['noid', 'kindonly', 'filter', 'private', 'badkind', 'bare']) expect(s[name], name).toBe('rc=2\n');
    expect(r.stderr).toMatch(/^ipcctl: rm --all would remove all 1 object \(1 shm\); not on a terminal, so add --yes/m);
    // The mixed run removed the queue that existed; the refused --all removed nothing.
    const still = json(s.still);
    expect(still.msgq).toEqual([]);
    expect(still.shm!.map((o) => o.id)).toEqual([Number(r.sections.dryid!.match(/^would remove shm (\d+) \(key 0x[0-9a-f]{8}\)$/m)?.[1] ?? -1)]);
    expect(s.dryid).toMatch(/\nwould remove 1 object \(1 shm\)\nrc=4\n$/);
    expect(s.yes).toMatch(/^removed shm \d+ .*\nrc=0\n$/);
    expect(s.empty).not.toMatch(/^0x/m);
    // Every diagnostic is one line starting "ipcctl: ".
    for (const line of r.stderr.trim().split('\n')) expect(line).toMatch(/^ipcctl: /);
  });
});

describe('ls: speed contract and streams', () => {
  it('does not load ffi-rs (rm does)', () => {
    const r = inIpcNamespace(`
      ipcmk -Q >/dev/null; ipcmk -M 4096 >/dev/null
      echo @@ls; LD_DEBUG=files $IPCCTL ls --limits 2>&1 >/dev/null | grep -c ffi-rs
      echo @@lsjson; LD_DEBUG=files $IPCCTL ls --json 2>&1 >/dev/null | grep -c ffi-rs
      echo @@rm; LD_DEBUG=files $IPCCTL rm shm 0 --dry-run 2>&1 >/dev/null | grep -c ffi-rs
      echo @@rmreal; LD_DEBUG=files $IPCCTL rm msgq 0 2>&1 >/dev/null | grep -c ffi-rs
      true
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.sections.ls!.trim()).toBe('0');
    expect(r.sections.lsjson!.trim()).toBe('0');
    // --dry-run only reads /proc too.
    expect(r.sections.rm!.trim()).toBe('0');
    // The check can see ffi-rs when it is loaded.
    expect(Number(r.sections.rmreal!.trim())).toBeGreaterThan(0);
  });

  it('--watch off a terminal prints one JSON line per snapshot, bounded by --count', () => {
    const r = inIpcNamespace(`
      ipcmk -Q >/dev/null
      echo @@watch; $IPCCTL ls msgq --watch 100ms --count 3
      echo @@summary; $IPCCTL ls sysv --summary --watch 100ms --count 2
    `);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.sections
      .watch!.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: number; msgq: Rec[] });
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(typeof l.time).toBe('number');
      expect(l.msgq).toHaveLength(1);
      expect(Object.keys(l)).toEqual(['time', 'msgq']);
    }
    const sums = r.sections
      .summary!.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msgq: { queues: number } });
    expect(sums.map((s) => s.msgq.queues)).toEqual([1, 1]);
  });

  it('--watch on a terminal redraws, quits on q, and gives the terminal back', () => {
    // script(1) runs ipcctl on a pseudo-terminal; "q" arrives as a key press.
    const r = inIpcNamespace(`
      ipcmk -Q >/dev/null
      # Bounded: if q were ignored, timeout(1) would end it with 124.
      (sleep 1; printf q) | timeout 20 script -qfec "$IPCCTL ls --watch 200ms" /dev/null; echo "rc=$?"
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('\x1b[?1049h'); // alternate screen on
    expect(r.stdout).toMatch(/every 200ms: ipcctl ls --watch 200ms/);
    expect(r.stdout).toMatch(/msgq\s+0\s+0x[0-9a-f]{8}/);
    expect(r.stdout).toContain('\x1b[?25h\x1b[?1049l'); // cursor back, main screen
    expect(r.stdout).toMatch(/rc=0\s*$/);
  });

  it('refuses bad input with one line and exit 2', () => {
    const cases = [
      ['ls', 'queues'],
      ['ls', '--time', '--pid'],
      ['ls', '--limits', '--owner', 'root'],
      ['ls', '--owner', 'no-such-user-here'],
      ['ls', '--key', '0xzz'],
      ['ls', '--watch', '1ms'],
      ['ls', '--count', '2'],
      ['ls', '--older-than', 'soon'],
      ['ls', 'msgq', '--orphans'],
      ['ls', '--creator', '-5'],
    ];
    for (const args of cases) {
      const r = ipcctl(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^ipcctl: [^\n]+\n$/);
      expect(r.stdout).toBe('');
    }
  });
});

function lineOf(table: string, kind: string, pred: (line: string) => boolean): string {
  const line = table.split('\n').find((l) => l.startsWith(kind) && pred(l));
  if (!line) throw new Error(`no ${kind} line in:\n${table}`);
  return line;
}

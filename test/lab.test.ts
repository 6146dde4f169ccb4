// ipcctl lab: each lab run for real (small sizes, --json) inside its own IPC
// namespace (unshare --ipc), so that the count of System V objects left
// after the run is exactly what the lab failed to remove. Also interrupted
// mid-run with SIGINT: exit 130, children gone, nothing left behind.
import { describe, expect, it } from 'vitest';
import { inIpcNamespace } from './helpers/ns.js';
import { ipcctl } from './helpers/run.js';

type Result = Record<string, unknown> & { lab: string; ok: boolean };

/** Objects in the namespace: the lines of /proc/sysvipc/* after their headers. */
const LEFT = 'tail -q -n +2 /proc/sysvipc/msg /proc/sysvipc/sem /proc/sysvipc/shm | wc -l';

/** Run `ipcctl --json lab ARGS` in a fresh namespace; its result and what it left. */
function lab(args: string): { result: Result; code: number; left: number; stderr: string } {
  const r = inIpcNamespace(
    `t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
     $IPCCTL --json lab ${args} > "$t/out" 2> "$t/err"; rc=$?
     echo @@rc; echo $rc
     echo @@json; cat "$t/out"
     echo @@err; cat "$t/err"
     echo @@left; ${LEFT}`,
    { timeout: 60_000 },
  );
  expect(r.code, r.stderr).toBe(0);
  const code = Number(r.sections.rc);
  const stderr = r.sections.err ?? '';
  expect(r.sections.json, stderr).toBeTruthy();
  return { result: JSON.parse(r.sections.json!) as Result, code, left: Number(r.sections.left), stderr };
}

describe('ipcctl lab (listing and bad input)', () => {
  it('lists the seven labs, one line each', () => {
    const r = ipcctl(['lab']);
    expect(r.code).toBe(0);
    const names = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(['race', 'prodcons', 'deadlock', 'msgq-server', 'heartbeat', 'rpc', 'pipeline']);
    const j = JSON.parse(ipcctl(['--json', 'lab']).stdout) as Array<{ name: string; summary: string }>;
    expect(j.map((l) => l.name)).toEqual(names);
  });

  it('lists and shows help without loading ffi-rs', () => {
    for (const args of [['lab'], ['lab', 'race', '--help']]) {
      // LD_DEBUG=files: the dynamic loader names every library it loads (ffi-rs is one).
      const r = ipcctl(args, { env: { LD_DEBUG: 'files' } });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(/file=libc\.so/);
      expect(r.stderr, args.join(' ')).not.toMatch(/ffi-rs/);
    }
  });

  it('refuses an unknown lab and bad options with exit 2 and one line', () => {
    for (const args of [
      ['lab', 'nope'],
      ['lab', 'race', '--processes', '0'],
      ['lab', 'heartbeat', '--workers', '2', '--stall', '3'],
      ['lab', 'pipeline', '--interval', 'soon'],
      ['lab', 'deadlock', '--max-time', '0'],
    ]) {
      const r = ipcctl(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^ipcctl: .+\n$/);
      expect(r.stdout).toBe('');
    }
  });
});

describe('ipcctl lab: each lab behaves as the lesson predicts and leaves nothing behind', () => {
  it('race with --lock ends at 0', () => {
    const { result, code, left } = lab('race --lock --processes 3 --iterations 300');
    expect(result).toMatchObject({ lab: 'race', ok: true, final: 0, processes: 3, lock: true });
    expect(code).toBe(0);
    expect(left).toBe(0);
  });

  it('race without a lock reports what lost updates leave: a multiple of 100, ok when not 0', () => {
    const { result, code, left } = lab('race --processes 2 --iterations 200000');
    expect(result.lab).toBe('race');
    expect(result.processes).toBe(2);
    const final = result.final as number;
    expect(Math.abs(final) % 100).toBe(0);
    expect(result.ok).toBe(final !== 0);
    expect(code).toBe(final !== 0 ? 0 : 1);
    expect(left).toBe(0);
  });

  it('prodcons consumes every item exactly once', () => {
    const { result, code, left } = lab('prodcons --producers 2 --consumers 3 --buffer 2 --items 60');
    expect(result).toMatchObject({ lab: 'prodcons', ok: true, produced: 120, consumed: 120, duplicates: 0, missing: 0, outOfOrder: 0 });
    expect(code).toBe(0);
    expect(left).toBe(0);
  });

  it('deadlock is detected and reported, then cleaned up', () => {
    const { result, code, left } = lab('deadlock --timeout 300ms');
    expect(result).toMatchObject({ lab: 'deadlock', ok: true, deadlocked: true, atomic: false });
    expect(code).toBe(0);
    expect(left).toBe(0);
  });

  it('deadlock --atomic completes', () => {
    const { result, code, left } = lab('deadlock --atomic --timeout 2s');
    expect(result).toMatchObject({ lab: 'deadlock', ok: true, deadlocked: false, atomic: true });
    expect(code).toBe(0);
    expect(left).toBe(0);
  });

  it('msgq-server delivers every reply to its own client', () => {
    const { result, code, left } = lab('msgq-server --clients 3 --requests 4');
    expect(result).toMatchObject({ lab: 'msgq-server', ok: true, replies: 12, misdelivered: 0, served: 12 });
    expect(code).toBe(0);
    expect(left).toBe(0);
  });

  it("msgq-server --thief: the thief takes client 1's replies, counted as misdelivered", () => {
    const { result, code, left } = lab('msgq-server --clients 2 --requests 3 --thief');
    expect(result).toMatchObject({ lab: 'msgq-server', ok: true, thief: true, misdelivered: 3, replies: 3, served: 6 });
    expect(code).toBe(0);
    expect(left).toBe(0);
  });

  it('heartbeat flags exactly the stalled worker', () => {
    const { result, code, left } = lab('heartbeat --workers 3 --rounds 2 --response-time 1500ms --stall 2');
    expect(result).toMatchObject({ lab: 'heartbeat', ok: true, unhealthy: [2] });
    expect(code).toBe(0);
    expect(left).toBe(0);
  });

  it('heartbeat with nobody stalled flags nobody', () => {
    const { result, left } = lab('heartbeat --workers 2 --rounds 2 --response-time 3s');
    expect(result).toMatchObject({ lab: 'heartbeat', ok: true, unhealthy: [] });
    expect(left).toBe(0);
  });

  it('pipeline: as many reports as triggers, failed mails retried, the queue before processing grows', () => {
    const { result, code, left } = lab('pipeline --triggers 8 --interval 5ms --process-time 30ms --mail-failures 2');
    expect(result).toMatchObject({ lab: 'pipeline', ok: true, triggers: 8, reports: 8, files: 8, mailFailures: 2, mailAttempts: 10 });
    const depth = result.maxDepth as Record<string, number>;
    expect(depth.images! + depth.triggers!).toBeGreaterThanOrEqual(2);
    expect(code).toBe(0);
    expect(left).toBe(0);
  });
});

describe('ipcctl lab whose reader goes away', () => {
  it('stops quietly (exit 0) and still removes every object', () => {
    const r = inIpcNamespace(`
      $IPCCTL lab pipeline --triggers 200 | head -2 > /dev/null; echo @@rc; echo \${PIPESTATUS[0]}
      echo @@left; ${LEFT}`);
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.sections.rc)).toBe(0);
    expect(Number(r.sections.left)).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('ipcctl lab interrupted with SIGINT', () => {
  /**
   * Start the lab in the background, wait until `ready` (a shell condition)
   * holds, send SIGINT to ipcctl's pid only, then report its exit code, its
   * children still alive, the objects left, and whether `path` is gone.
   */
  function interrupt(args: string, ready: string) {
    return inIpcNamespace(
      `out=$(mktemp); trap 'rm -f $out' EXIT
       $IPCCTL lab ${args} > $out 2>&1 & pid=$!
       for i in $(seq 1 300); do (${ready}) && break; sleep 0.05; done
       kids=$(cat /proc/$pid/task/*/children)
       dir=$(grep -o '/tmp/ipcctl-lab-[^ ]*' $out | head -1)
       echo @@before; ${LEFT}
       echo @@kids; echo $kids
       kill -INT $pid; wait $pid; rc=$?; echo @@rc; echo $rc
       echo @@alive; n=0; for k in $kids; do kill -0 $k 2>/dev/null && n=$((n+1)); done; echo $n
       echo @@left; ${LEFT}
       echo @@dir; if [ -n "$dir" ] && [ -e "$dir" ]; then echo present; else echo gone; fi
       echo @@out; cat $out`,
      { timeout: 60_000 },
    );
  }

  it('deadlock: exit 130, both blocked children killed, the set removed', () => {
    const r = interrupt('deadlock --timeout 60s', `grep -q 'both are blocked' $out`);
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.sections.before)).toBe(1);
    expect(r.sections.kids!.trim().split(' ')).toHaveLength(2);
    expect(Number(r.sections.rc), r.sections.out).toBe(130);
    expect(Number(r.sections.alive)).toBe(0);
    expect(Number(r.sections.left)).toBe(0);
    expect(r.sections.out).toMatch(/ipcctl: lab deadlock: interrupted/);
  });

  it('pipeline: exit 130 mid-stream, stages killed, queues and directory removed', () => {
    const r = interrupt('pipeline --triggers 500 --interval 10ms --process-time 50ms', `grep -q 'queue depth' $out`);
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.sections.before)).toBe(4);
    expect(r.sections.kids!.trim().split(' ')).toHaveLength(5);
    expect(Number(r.sections.rc), r.sections.out).toBe(130);
    expect(Number(r.sections.alive)).toBe(0);
    expect(Number(r.sections.left)).toBe(0);
    expect(r.sections.dir!.trim()).toBe('gone');
  });

  it.each([
    ['prodcons', 'prodcons --items 1000000', 'opening it', 2],
    ['msgq-server', 'msgq-server --clients 3 --thief', 'semaphore set', 2],
    ['heartbeat', 'heartbeat --rounds 1000 --stall 1', 'round 1', 1],
  ])('%s: exit 130 mid-run, children killed, objects removed', (_name, args, marker, objects) => {
    const r = interrupt(args, `grep -q '${marker}' $out`);
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.sections.before)).toBe(objects);
    expect(r.sections.kids!.trim()).not.toBe('');
    expect(Number(r.sections.rc), r.sections.out).toBe(130);
    expect(Number(r.sections.alive)).toBe(0);
    expect(Number(r.sections.left)).toBe(0);
  });

  it('race: exit 130 while processes run, segment and set removed', () => {
    const r = interrupt('race --lock --processes 2 --iterations 1000000', `grep -q 'opening it' $out`);
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.sections.before)).toBe(2);
    expect(Number(r.sections.rc), r.sections.out).toBe(130);
    expect(Number(r.sections.alive)).toBe(0);
    expect(Number(r.sections.left)).toBe(0);
  });
});

describe('ipcctl lab rpc', () => {
  it('the client blocks least for messages, most for the RPC, in between for an asynchronous request', () => {
    const { result, code, left } = lab('rpc --process-time 400ms --work 250ms');
    expect(code, JSON.stringify(result)).toBe(0);
    expect(result).toMatchObject({ lab: 'rpc', ok: true, process_ms: 400, work_ms: 250 });
    const b = result.blocked_ms as { asyncMessage: number; syncMessage: number; asyncRequest: number; syncRequest: number };
    expect(b.syncRequest).toBeGreaterThanOrEqual(360);
    expect(b.asyncRequest).toBeLessThan(b.syncRequest);
    expect(b.asyncMessage).toBeLessThan(100);
    expect(b.syncMessage).toBeLessThan(100);
    expect(left).toBe(0);
  });
});

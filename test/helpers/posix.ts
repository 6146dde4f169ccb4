// POSIX IPC peers and cleanup for tests: unique names (pid + random), every
// name a test makes removed after it (pass or fail), and a Python ctypes peer
// that calls libc's mq_*, shm_open + mmap and sem_* itself (stdlib only).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { inNamespaces, type NsRun } from './ns.js';
import { PYTHON } from './run.js';

type PosixKind = 'pmq' | 'pshm' | 'psem';
const made: Array<[PosixKind, string]> = [];

/** A name no parallel test uses: /ipcctl-t-PID-RANDOM-TAG. */
export function uniqueName(tag = ''): string {
  return `/ipcctl-t-${process.pid}-${Math.random().toString(36).slice(2, 10)}${tag ? '-' + tag : ''}`;
}

/** Remember a name for removal after this test. */
export function trackName(kind: PosixKind, name: string): string {
  made.push([kind, name]);
  return name;
}

afterEach(() => {
  while (made.length > 0) {
    const [kind, name] = made.pop()!;
    // Straight through libc, not ipcctl: cleanup must not depend on the code under test.
    spawnSync(PYTHON, [peerScript(), `${kind}_unlink`, name], { stdio: 'ignore' });
  }
});

const PEER = String.raw`
import ctypes, ctypes.util, mmap, os, sys, json, time
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.mq_open.restype = ctypes.c_int
libc.mq_receive.restype = ctypes.c_ssize_t
libc.sem_open.restype = ctypes.c_void_p
libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
for f in ("sem_post", "sem_getvalue", "sem_close", "sem_trywait", "sem_wait"):
    getattr(libc, f).argtypes = [ctypes.c_void_p] + ([ctypes.POINTER(ctypes.c_int)] if f == "sem_getvalue" else [])
O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NONBLOCK = 0, 1, 2, 0o100, 0o200, 0o4000

class Attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long), ("curmsgs", ctypes.c_long), ("pad", ctypes.c_long * 4)]

def check(v, what):
    if v == -1 or v is None:
        e = ctypes.get_errno()
        sys.stderr.write("%s: %s\n" % (what, os.strerror(e)))
        sys.exit(1)
    return v

def mq(name, flags):
    return check(libc.mq_open(name.encode(), flags), "mq_open")

cmd, name, args = sys.argv[1], sys.argv[2], sys.argv[3:]
if cmd == "pmq_create":
    a = Attr(0, int(args[0]), int(args[1]), 0)
    check(libc.mq_open(name.encode(), O_RDWR | O_CREAT | O_EXCL, 0o600, ctypes.byref(a)), "mq_open")
elif cmd == "pmq_send":
    fd = mq(name, O_WRONLY)
    for item in args:
        prio, hexdata = item.split(":", 1)
        data = bytes.fromhex(hexdata)
        check(libc.mq_send(fd, data, len(data), int(prio)), "mq_send")
elif cmd == "pmq_recv_all":
    fd = mq(name, O_RDONLY | O_NONBLOCK)
    a = Attr()
    check(libc.mq_getattr(fd, ctypes.byref(a)), "mq_getattr")
    buf = ctypes.create_string_buffer(a.msgsize)
    prio = ctypes.c_uint()
    out = []
    while True:
        n = libc.mq_receive(fd, buf, a.msgsize, ctypes.byref(prio))
        if n < 0:
            break
        out.append([prio.value, buf.raw[:n].hex()])
    print(json.dumps(out))
elif cmd == "pmq_attr":
    fd = mq(name, O_RDONLY)
    a = Attr()
    check(libc.mq_getattr(fd, ctypes.byref(a)), "mq_getattr")
    print(json.dumps({"maxmsg": a.maxmsg, "msgsize": a.msgsize, "curmsgs": a.curmsgs}))
elif cmd == "pmq_unlink":
    libc.mq_unlink(name.encode())
elif cmd == "pshm_create":
    fd = check(libc.shm_open(name.encode(), O_RDWR | O_CREAT | O_EXCL, 0o600), "shm_open")
    os.ftruncate(fd, int(args[0]))
elif cmd == "pshm_write":
    fd = check(libc.shm_open(name.encode(), O_RDWR, 0), "shm_open")
    size = os.fstat(fd).st_size
    m = mmap.mmap(fd, size)
    data = bytes.fromhex(args[1])
    m[int(args[0]):int(args[0]) + len(data)] = data
    m.close()
elif cmd == "pshm_read":
    fd = check(libc.shm_open(name.encode(), O_RDONLY, 0), "shm_open")
    size = os.fstat(fd).st_size
    m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
    off, ln = int(args[0]), int(args[1])
    print(json.dumps({"size": size, "hex": m[off:off + ln].hex()}))
elif cmd == "pshm_unlink":
    libc.shm_unlink(name.encode())
elif cmd == "psem_create":
    check(libc.sem_open(name.encode(), O_CREAT | O_EXCL, 0o600, int(args[0])), "sem_open")
elif cmd == "psem_value":
    s = check(libc.sem_open(name.encode(), 0, 0, 0), "sem_open")
    v = ctypes.c_int()
    check(libc.sem_getvalue(s, ctypes.byref(v)), "sem_getvalue")
    print(v.value)
elif cmd == "psem_post":
    s = check(libc.sem_open(name.encode(), 0, 0, 0), "sem_open")
    for _ in range(int(args[0]) if args else 1):
        check(libc.sem_post(s), "sem_post")
elif cmd == "psem_take":
    s = check(libc.sem_open(name.encode(), 0, 0, 0), "sem_open")
    check(libc.sem_wait(s), "sem_wait")
elif cmd == "psem_unlink":
    libc.sem_unlink(name.encode())
else:
    sys.exit("unknown " + cmd)
`;

let dir: string | null = null;
let script: string | null = null;
function peerScript(): string {
  if (script) return script;
  dir = mkdtempSync(join(tmpdir(), 'ipcctl-posix-'));
  script = join(dir, 'peer.py');
  writeFileSync(script, PEER);
  return script;
}
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run the Python ctypes peer: `peer('pmq_send', name, '5:6869')`. */
export function peer(cmd: string, name: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, [peerScript(), cmd, name, ...args], { timeout: 20_000 });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

export const hex = (b: Buffer | string) => Buffer.from(b).toString('hex');

/**
 * Run `script` with bash in private IPC and mount namespaces, with a fresh
 * mqueue file system on /dev/mqueue and a fresh tmpfs on /dev/shm: the
 * script sees only the POSIX objects it makes, and they all vanish with it.
 * `$IPCCTL` and `$PY` as in helpers/ns.ts; mark outputs with `echo @@name`.
 */
export function inPosixNamespace(script: string, opts: { timeout?: number } = {}): NsRun {
  const setup = 'mount --make-rprivate / && mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue && mount -t tmpfs -o size=64m none /dev/shm || exit 99';
  return inNamespaces(['--ipc', '--mount'], script, { ...opts, setup, env: { PEER: peerScript() } });
}

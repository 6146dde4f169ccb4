// Real RPC peers for the rpc tests: rpcbind (started once for every test
// file that needs it, stopped by pid when the last one is done), the netkit
// daemons rpc.rstatd and rpc.rusersd, and a server and client that rpcgen
// and gcc build from a .x file the test writes.
//
// rpcbind is shared: test files run in parallel and several may need it at
// once. Each file takes a lease (a file naming its process) under a lock
// directory; the first finds no portmapper and starts `rpcbind -w -f`,
// writing its pid down; the last to give its lease back stops that pid and
// removes rpcbind's warm-start files. A portmapper that was running before
// the tests is used and never stopped.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ROOT, run, sleep } from './run.js';
import { waitFor as waitForState } from './wait.js';

const STATE = '/tmp/ipcctl-test-rpcbind';
const LOCK = join(STATE, 'lock');
const OWNER = join(STATE, 'rpcbind.pid');
/** rpcbind -w writes these when it stops, and reads them when it starts. */
const WARM_FILES = ['/run/rpcbind/rpcbind.xdr', '/run/rpcbind/portmap.xdr', '/tmp/rpcbind.xdr', '/tmp/portmap.xdr'];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function locked<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(STATE, { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A holder that died leaves the directory behind: take it after 20 s.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 20_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      await sleep(20);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export function portmapperUp(): boolean {
  return run('rpcinfo', ['-p', '127.0.0.1'], { timeout: 5000 }).code === 0;
}

/** Bounded wait for rpcbind's state (10 s unless told: it answers within milliseconds when up). */
async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  await waitForState(what, ok, { timeoutMs: ms });
}

let lease = '';

export async function acquireRpcbind(): Promise<void> {
  await locked(async () => {
    lease = join(STATE, `lease.${process.pid}.${Math.random().toString(36).slice(2)}`);
    writeFileSync(lease, String(process.pid));
    if (portmapperUp()) return;
    for (const f of WARM_FILES) rmSync(f, { force: true });
    const child = spawn('rpcbind', ['-w', '-f'], { detached: true, stdio: 'ignore' });
    child.unref();
    writeFileSync(OWNER, String(child.pid));
    await waitFor('rpcbind', portmapperUp);
  });
}

export async function releaseRpcbind(): Promise<void> {
  await locked(async () => {
    if (lease) rmSync(lease, { force: true });
    lease = '';
    const others = readdirSync(STATE)
      .filter((f) => f.startsWith('lease.'))
      .filter((f) => {
        const pid = Number(readFileSync(join(STATE, f), 'utf8'));
        if (alive(pid)) return true;
        rmSync(join(STATE, f), { force: true }); // a test process that died
        return false;
      });
    if (others.length > 0 || !existsSync(OWNER)) return;
    const pid = Number(readFileSync(OWNER, 'utf8'));
    rmSync(OWNER, { force: true });
    if (pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      await waitFor('rpcbind to stop', () => !alive(pid)).catch(() => process.kill(pid, 'SIGKILL'));
    }
    for (const f of WARM_FILES) rmSync(f, { force: true });
  });
}

/** beforeAll/afterAll of a test file that talks to the portmapper. */
export function useRpcbind(): void {
  beforeAll(acquireRpcbind, 15_000);
  afterAll(releaseRpcbind, 15_000);
}

export interface Registration {
  prog: number;
  vers: number;
  proto: string;
  port: number;
}

/** rpcinfo -p, parsed. */
export function rpcinfoList(): Registration[] {
  const r = run('rpcinfo', ['-p', '127.0.0.1']);
  if (r.code !== 0) throw new Error(`rpcinfo -p failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .map(([prog, vers, proto, port]) => ({ prog: Number(prog), vers: Number(vers), proto: proto!, port: Number(port) }));
}

export function registered(prog: number): Registration[] {
  return rpcinfoList().filter((r) => r.prog === prog);
}

/** Remove every registration of `prog` (what a killed server leaves behind). */
export function unregister(prog: number): void {
  for (const v of new Set(registered(prog).map((r) => r.vers))) run('rpcinfo', ['-d', String(prog), String(v)]);
}

/** The pid of the process bound to a UDP or TCP port on this machine (ss -p). */
export function pidOnPort(proto: string, port: number): number | null {
  const r = run('ss', ['-Hnp', proto === 'tcp' ? '-lt' : '-lu', `sport = :${port}`]);
  const m = /pid=([0-9]+)/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

export interface Daemon {
  prog: number;
  /** Set when this test started it: stopped by this pid afterwards. */
  pid: number | null;
}

/**
 * A netkit RPC daemon (rpc.rstatd, rpc.rusersd): used when registered
 * already, else started here. They fork into the background, so the pid is
 * found from the port the portmapper gives for them.
 */
export async function startDaemon(command: string, prog: number): Promise<Daemon> {
  if (registered(prog).length > 0) return { prog, pid: null };
  // stdin must not be a socket (Node's pipes are socketpairs): on a socket
  // these daemons think inetd started them and serve it instead of forking.
  const r = spawnSync(command, [], { stdio: 'ignore', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${command} failed: ${r.error ?? r.status}`);
  await waitFor(`${command} to register`, () => registered(prog).length > 0);
  const reg = registered(prog)[0]!;
  return { prog, pid: pidOnPort(reg.proto, reg.port) };
}

export async function stopDaemon(d: Daemon | undefined): Promise<void> {
  if (!d || d.pid === null) return;
  if (alive(d.pid)) {
    process.kill(d.pid, 'SIGTERM');
    await waitFor('the daemon to stop', () => !alive(d.pid!)).catch(() => process.kill(d.pid!, 'SIGKILL'));
  }
  unregister(d.prog);
}

/** A program number for a test, in the range for users (0x20000000-0x3fffffff), unlikely to collide. */
export function testProgram(): number {
  return 0x20000000 + 0x100000 + Math.floor(Math.random() * 0xefffff);
}

export interface Rpcgen {
  dir: string;
  server: string;
  client: string;
  prog: number;
}

/** rpcgen + gcc against libtirpc: test/fixtures/rpc/test.x.in with `prog`, server and client. */
export function buildRpcgen(dir: string, prog: number): Rpcgen {
  const fixtures = join(ROOT, 'test/fixtures/rpc');
  writeFileSync(join(dir, 'test.x'), readFileSync(join(fixtures, 'test.x.in'), 'utf8').replace('} = PROGNUM;', `} = 0x${prog.toString(16)};`));
  const steps: Array<[string, string[]]> = [
    ['rpcgen', ['test.x']],
    ['gcc', ['-O2', '-I/usr/include/tirpc', '-I.', '-o', 'server', 'test_svc.c', 'test_xdr.c', join(fixtures, 'server.c'), '-ltirpc']],
    ['gcc', ['-O2', '-I/usr/include/tirpc', '-I.', '-o', 'client', 'test_clnt.c', 'test_xdr.c', join(fixtures, 'client.c'), '-ltirpc']],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  }
  return { dir, server: join(dir, 'server'), client: join(dir, 'client'), prog };
}

/** Start the rpcgen server (it stays in the foreground) and wait until it is registered. */
export async function startRpcgenServer(g: Rpcgen) {
  const child = spawn(g.server, [], { cwd: g.dir, stdio: 'ignore' });
  await waitFor('the rpcgen server to register', () => registered(g.prog).length >= 2);
  return child;
}

// Ports for tests, without handing out a port after it was released (another
// test on the machine may take it in between). ipcctl's servers choose their
// own (--port 0) and say which on stderr; peers that need a port given on
// their command line (nc -l, socat TCP-LISTEN) get a random one, and a new
// one when it turns out to be taken. What listens is asked of the kernel (ss).
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { waitFor } from './wait.js';

/** The port in ipcctl's "ipcctl: OP: listening on ADDR:PORT" line, once it is there. */
export function listeningPort(stderr: string): number | undefined {
  const m = /: listening on [^\n]*:(\d+)\n/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** Whether process `pid` has a socket bound (udp) or listening (tcp) on `port`, by ss. */
export function bindsPort(proto: 'tcp' | 'udp', port: number, pid?: number): boolean {
  const r = spawnSync('ss', [proto === 'tcp' ? '-ltnpH' : '-lunpH', `sport = :${port}`], { encoding: 'utf8' });
  const out = r.stdout ?? '';
  return pid === undefined ? out.trim() !== '' : out.includes(`pid=${pid},`);
}

/** Resolve once something listens on TCP `port` (ss: a probe connection would be nc's only client). */
export async function waitListening(port: number, pid?: number): Promise<void> {
  await waitFor(`a TCP listener on 127.0.0.1:${port}`, () => bindsPort('tcp', port, pid));
}

/** Resolve once something is bound to UDP `port`. */
export async function waitUdpBound(port: number, pid?: number): Promise<void> {
  await waitFor(`a UDP socket bound to 127.0.0.1:${port}`, () => bindsPort('udp', port, pid));
}

/** A random port below the ephemeral range (32768..60999), where connect() never picks its own. */
function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 12000);
}

/**
 * Start a peer that binds a port named on its command line: `launch(port)`
 * starts it; once ss shows that very process on the port, resolve with the
 * port. A peer that exits first (the port was taken: EADDRINUSE) is tried
 * again on another port, a few times.
 */
export async function onRandomPort<P extends { child: ChildProcess }>(proto: 'tcp' | 'udp', launch: (port: number) => P): Promise<P & { port: number }> {
  const failures: string[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = randomPort();
    const peer = launch(port);
    const gone = () => peer.child.exitCode !== null || peer.child.signalCode !== null;
    const first = await waitFor(`pid ${peer.child.pid} to bind ${proto} port ${port} or exit`, () =>
      bindsPort(proto, port, peer.child.pid) ? 'bound' : gone() ? 'exited' : undefined,
    );
    if (first === 'bound') return { ...peer, port };
    failures.push(`${port}: exited ${peer.child.exitCode ?? peer.child.signalCode}`);
  }
  throw new Error(`no peer could bind a ${proto} port: ${failures.join('; ')}`);
}

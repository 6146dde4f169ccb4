// The server modes of `tcp serve` and `unix serve` beyond receiving bytes:
// --exec/--sh (a program per connection) and --broker/--chat (fan-out).
// Here: their flags, their checks, and how their events are reported
// (-v and child stderr on stderr, --json lines on stdout).
import { UsageError } from '../../errors.js';
import type { SockAddr } from '../../ipc/net/address.js';
import { jsonLine } from '../../output/json.js';
import { writeStderr, writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import type { StreamServeFlags } from './sockets.js';

export interface ModeFlags extends StreamServeFlags {
  exec?: string;
  sh?: string;
  broker?: boolean;
  chat?: boolean;
  maxQueue?: number;
  hexdump?: string | boolean;
}

export function wantsMode(f: ModeFlags): 'exec' | 'broker' | null {
  if (f.exec !== undefined || f.sh !== undefined) return 'exec';
  if (f.broker || f.chat) return 'broker';
  return null;
}

export function checkModeFlags(op: string, f: ModeFlags & { progress?: boolean }): void {
  const given = [
    f.exec !== undefined && '--exec',
    f.sh !== undefined && '--sh',
    f.echo && '--echo',
    (f.broker || f.chat) && (f.chat ? '--chat' : '--broker'),
  ].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${op}: give one of --exec, --sh, --echo, --broker/--chat, not ${given.join(' and ')}`);
  const mode = wantsMode(f);
  if (f.maxQueue !== undefined && mode !== 'broker') throw new UsageError(`${op}: --max-queue is for --broker and --chat`);
  if (mode && f.progress) throw new UsageError(`${op}: --progress does not apply to ${mode === 'exec' ? '--exec' : '--broker'}`);
  if (mode === 'broker' && f.once) throw new UsageError(`${op}: a broker serves many clients: --once does not apply`);
  if (mode === 'broker' && f.linger !== undefined) throw new UsageError(`${op}: --linger does not apply to --broker`);
  // The child reads the connection itself (the socket is its stdin, with no
  // relay through us): there is no stream here to dump; see the man page.
  if (mode === 'exec' && f.hexdump !== undefined)
    throw new UsageError(`${op}: --hexdump does not apply to --exec: the child reads the connection itself; use -x on the client (tcp connect -x)`);
}

type Format = (a: SockAddr) => string;
type Fields = (a: SockAddr) => object;

/** Events of an --exec server as the user asked to see them. */
export function execReporter(op: string, verbose: boolean, showListening: boolean, format: Format, fields: Fields, command: string) {
  const json = settings.json;
  return {
    listening(local: SockAddr) {
      if (json) writeStdout(jsonLine({ event: 'listening', ...fields(local), exec: command }));
      else if (verbose || showListening) writeStderr(`ipcctl: ${op}: listening on ${format(local)}\n`);
    },
    accept(conn: number, peer: SockAddr) {
      if (json) writeStdout(jsonLine({ event: 'accept', conn, ...fields(peer) }));
      else if (verbose) writeStderr(`ipcctl: ${op}: connection ${conn} from ${format(peer)}\n`);
    },
    // The child's own words, marked with whom it serves: never swallowed, also under --json.
    stderr(_conn: number, peer: SockAddr, line: string) {
      writeStderr(`[${format(peer)}] ${line}\n`);
    },
    exit(conn: number, _peer: SockAddr, pid: number, s: { code: number | null; signal: number | null }) {
      if (json) writeStdout(jsonLine({ event: 'exit', conn, pid, code: s.code, signal: s.signal }));
      else if (verbose)
        writeStderr(
          `ipcctl: ${op}: connection ${conn}: ${command} (pid ${pid}) ${s.code !== null ? `exited with status ${s.code}` : `killed by signal ${s.signal}`}\n`,
        );
    },
    close(conn: number, info: { sent: number; error?: string }) {
      if (json) writeStdout(jsonLine({ event: 'close', conn, sent: info.sent, ...(info.error ? { error: info.error } : {}) }));
      else if (verbose) writeStderr(`ipcctl: ${op}: connection ${conn} closed, ${info.sent} bytes sent${info.error ? ` (${info.error})` : ''}\n`);
    },
  };
}

/** Events of a broker: joins and leaves (-v, and always a dropped client), message sizes (--json). */
export function brokerReporter(op: string, verbose: boolean, showListening: boolean, format: Format, fields: Fields) {
  const json = settings.json;
  return {
    listening(local: SockAddr) {
      if (json) writeStdout(jsonLine({ event: 'listening', ...fields(local) }));
      else if (verbose || showListening) writeStderr(`ipcctl: ${op}: listening on ${format(local)}\n`);
    },
    join(conn: number, peer: SockAddr) {
      if (json) writeStdout(jsonLine({ event: 'join', conn, ...fields(peer) }));
      else if (verbose) writeStderr(`ipcctl: ${op}: client ${conn} joined from ${format(peer)}\n`);
    },
    message: json ? (conn: number, size: number, recipients: number) => writeStdout(jsonLine({ event: 'message', conn, size, recipients })) : undefined,
    leave(conn: number, peer: SockAddr, info: { reason: string; detail?: string; queued?: number }) {
      if (info.reason === 'dropped') writeStderr(`ipcctl: ${op}: client ${conn} (${format(peer)}) dropped: ${info.detail}\n`);
      if (json)
        writeStdout(jsonLine({ event: 'leave', conn, ...fields(peer), reason: info.reason, ...(info.queued !== undefined ? { queued: info.queued } : {}) }));
      else if (verbose && info.reason !== 'dropped')
        writeStderr(`ipcctl: ${op}: client ${conn} left (${info.reason}${info.detail ? ': ' + info.detail : ''})\n`);
    },
  };
}

export interface ModeRun {
  op: string;
  address: SockAddr;
  reuseaddr: boolean;
  showListening: boolean;
  afterBind?: (local: SockAddr) => void;
}

/** Run the --exec or --broker server that `f` asks for. */
export async function runMode(mode: 'exec' | 'broker', r: ModeRun, f: ModeFlags): Promise<void> {
  const { formatAddress, addressFields } = await import('../../ipc/net/address.js');
  if (mode === 'exec') {
    const { programFor } = await import('../../ipc/net/program.js');
    const program = programFor(r.op, f.exec, f.sh);
    const { serveExec } = await import('../../ipc/net/exec.js');
    return serveExec({
      op: r.op,
      address: r.address,
      backlog: f.backlog,
      reuseaddr: r.reuseaddr,
      linger: f.linger,
      keepOpen: Boolean(f.keepOpen),
      maxConns: f.maxConns,
      idleMs: f.timeout,
      program,
      afterBind: r.afterBind,
      events: execReporter(r.op, Boolean(f.verbose), r.showListening, formatAddress, addressFields, f.sh ?? f.exec!),
    });
  }
  const { serveBroker } = await import('../../ipc/net/broker.js');
  const { TrafficDump } = await import('../../output/traffic.js');
  // -x: what each client sends us and what we send it, marked with the client.
  const dump = f.hexdump !== undefined ? new TrafficDump(f.hexdump as string) : null;
  const events = {
    ...brokerReporter(r.op, Boolean(f.verbose), r.showListening, formatAddress, addressFields),
    ...(dump
      ? {
          received: (conn: number, data: Buffer) => dump.chunk('received', data, `conn ${conn}`),
          sent: (conn: number, data: Buffer) => dump.chunk('sent', data, `conn ${conn}`),
        }
      : {}),
  };
  try {
    return await serveBroker({
      op: r.op,
      address: r.address,
      backlog: f.backlog,
      reuseaddr: r.reuseaddr,
      maxConns: f.maxConns,
      idleMs: f.timeout,
      chat: Boolean(f.chat),
      maxQueue: f.maxQueue ?? 1 << 20,
      afterBind: r.afterBind,
      events,
    });
  } finally {
    dump?.close();
  }
}

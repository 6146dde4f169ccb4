// What `tcp`, `unix` and `udp` share at the command level: the options of a
// stream server and client, the reporting of events (-v on stderr, --json
// lines on stdout), and datagram output. The domain modules are imported
// inside the actions so that `--help` never loads ffi-rs.
// Options come from createOption: commander is resolved once, by cli.ts.
import { isUtf8 } from 'node:buffer';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { SockAddr } from '../../ipc/net/address.js';
import type { Datagram, ListenStats } from '../../ipc/net/datagram.js';
import { jsonLine, payloadFields } from '../../output/json.js';
import { writeStderr, writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import type { TrafficDump } from '../../output/traffic.js';
import { asDuration, parseInteger, parseSize } from './args.js';

export const asBacklog = (v: string) => parseInteger(v, 'backlog', 1, 65535);
export const asLinger = (v: string) => parseInteger(v, 'linger seconds', 0, 65535);
export const asQueue = (v: string) => {
  const n = parseSize(v, 'queue size');
  if (n < 1) throw new UsageError(`invalid queue size '${v}': at least 1 byte`);
  return n;
};
export const asConns = (v: string) => parseInteger(v, 'connection count', 1, 1_000_000);

export interface StreamServeFlags {
  echo?: boolean;
  once?: boolean;
  keepOpen?: boolean;
  maxConns?: number;
  backlog: number;
  linger?: number;
  timeout?: number;
  verbose?: boolean;
  progress?: boolean;
}

export function addStreamServeOptions(cmd: Command): Command {
  return cmd
    .option('--echo', 'send every byte back to the client that sent it')
    .option('--once', 'serve one client, then exit (the default)')
    .option('-k, --keep-open', 'serve many clients, at the same time, until Ctrl-C')
    .addOption(cmd.createOption('--max-conns <n>', 'with --keep-open: at most N clients at once (others wait)').argParser(asConns))
    .addOption(cmd.createOption('--backlog <n>', 'listen(2) queue length').argParser(asBacklog).default(128))
    .addOption(cmd.createOption('--linger <secs>', 'SO_LINGER: close waits up to SECS for unsent data (0: reset)').argParser(asLinger))
    .addOption(cmd.createOption('--timeout <dur>', 'exit 124 after DUR without a client or traffic').argParser(asDuration))
    .option('--exec <cmd>', 'run CMD per connection, the connection as its stdin and stdout (ncat -e)')
    .option('-c, --sh <cmd>', 'like --exec, but CMD is a shell command (/bin/sh -c)')
    .option('--broker', 'publish/subscribe: what one client sends goes to every other client')
    .option('--chat', 'like --broker, framed by lines, each prefixed with its sender')
    .addOption(
      cmd.createOption('--max-queue <size>', 'with --broker/--chat: bytes a client may have waiting before it is dropped (default 1M)').argParser(asQueue),
    )
    .option('-x, --hexdump [file]', 'dump the traffic, both directions marked, as hexdump -C (to FILE, else stderr)')
    .option('-v, --verbose', 'report listening address and each client on stderr')
    .option('--progress', 'on a terminal: bytes received and the rate on stderr, and a summary at the end');
}

export function checkServeFlags(op: string, f: StreamServeFlags): void {
  if (f.once && f.keepOpen) throw new UsageError(`${op}: give --once or --keep-open, not both`);
  if (f.maxConns !== undefined && !f.keepOpen && !(f as { broker?: boolean; chat?: boolean }).broker && !(f as { chat?: boolean }).chat)
    throw new UsageError(`${op}: --max-conns needs --keep-open`);
}

export function addConnectOptions(cmd: Command): Command {
  return cmd
    .option('--send <text>', 'send TEXT instead of stdin')
    .addOption(cmd.createOption('--timeout <dur>', 'give up connecting, or after DUR without traffic (exit 124)').argParser(asDuration))
    .option('-z, --zero', 'only check that the connection opens, send nothing')
    .addOption(cmd.createOption('--linger <secs>', 'SO_LINGER for the connection').argParser(asLinger))
    .option('--no-shutdown', 'do not half-close at the end of input (keep reading until the peer closes)')
    .option('--crlf', 'send line ends as CRLF (LF becomes CR LF)')
    .option('-x, --hexdump [file]', 'dump the traffic, both directions marked, as hexdump -C (to FILE, else stderr)')
    .option('-v, --verbose', 'report the connection on stderr')
    .option('--progress', 'on a terminal: bytes moved and the rate on stderr, and a summary at the end');
}

/** Events of a stream server, as the user asked to see them. */
export function serveReporter(op: string, verbose: boolean, showListening: boolean, format: (a: SockAddr) => string, fields: (a: SockAddr) => object) {
  const json = settings.json;
  return {
    listening(local: SockAddr) {
      if (json) writeStdout(jsonLine({ event: 'listening', ...fields(local) }));
      else if (verbose || showListening) writeStderr(`ipcctl: ${op}: listening on ${format(local)}\n`);
    },
    accept(conn: number, peer: SockAddr) {
      if (json) writeStdout(jsonLine({ event: 'accept', conn, ...fields(peer) }));
      else if (verbose) writeStderr(`ipcctl: ${op}: connection ${conn} from ${format(peer)}\n`);
    },
    data: json ? (conn: number, chunk: Buffer) => writeStdout(jsonLine({ event: 'data', conn, size: chunk.length, ...payloadFields(chunk) })) : undefined,
    close(conn: number, info: { received: number; error?: string }) {
      if (json) writeStdout(jsonLine({ event: 'close', conn, received: info.received, ...(info.error ? { error: info.error } : {}) }));
      else if (verbose) writeStderr(`ipcctl: ${op}: connection ${conn} closed, ${info.received} bytes received${info.error ? ` (${info.error})` : ''}\n`);
    },
  };
}

/** Print each datagram: raw bytes (optionally newline-ended), or one JSON line. */
export function datagramPrinter(op: string, opts: { lines?: boolean; verbose?: boolean }, fields: (a: SockAddr) => object, format: (a: SockAddr) => string) {
  const nl = Buffer.from('\n');
  let warned = false;
  // --json keeps up with a burst as the raw path does: the sender's part of
  // the line is made once per sender (decoding an address is a native call),
  // UTF-8 is checked without a round trip, and a batch is one string, one write.
  const senderPrefix = new Map<string, string>();
  const prefixOf = (d: Datagram) => {
    const key = d.fromKey();
    let p = senderPrefix.get(key);
    if (p === undefined) {
      if (senderPrefix.size >= 4096) senderPrefix.clear();
      p = JSON.stringify(fields(d.from())).slice(0, -1) + ',';
      senderPrefix.set(key, p);
    }
    return p;
  };
  return (batch: Datagram[]) => {
    if (settings.json) {
      let out = '';
      for (const d of batch) {
        if (d.truncated && !warned) {
          writeStderr(`ipcctl: ${op}: a datagram was larger than the receive buffer and was cut\n`);
          warned = true;
        }
        const payload = isUtf8(d.data) ? `"text":${JSON.stringify(d.data.toString('utf8'))}` : `"base64":"${d.data.toString('base64')}"`;
        out += `${prefixOf(d)}"size":${d.data.length},${payload}}\n`;
      }
      if (out.length > 0) writeStdout(out);
      return;
    }
    const parts: Buffer[] = [];
    for (const d of batch) {
      if (d.truncated && !warned) {
        writeStderr(`ipcctl: ${op}: a datagram was larger than the receive buffer and was cut\n`);
        warned = true;
      }
      if (opts.verbose) writeStderr(`ipcctl: ${op}: ${d.data.length} bytes from ${format(d.from())}\n`);
      parts.push(d.data);
      if (opts.lines) parts.push(nl);
    }
    if (parts.length > 0) writeStdout(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  };
}

/** -x on a plain server: what each client sends (and, with --echo, what goes back) in the dump. */
export function withHexdump<T extends { data?: (conn: number, chunk: Buffer) => void }>(events: T, dump: TrafficDump | null, echo: boolean): T {
  if (!dump) return events;
  const inner = events.data;
  return {
    ...events,
    data: (conn: number, chunk: Buffer) => {
      dump.chunk('received', chunk, `conn ${conn}`);
      if (echo) dump.chunk('sent', chunk, `conn ${conn}`);
      inner?.(conn, chunk);
    },
  };
}

/**
 * `-x [FILE]` takes the next word as its FILE, so `tcp connect -x 127.0.0.1
 * 9000` would dump into a file named 127.0.0.1. A numeric address or a
 * port is never meant as that file: there -x stands alone (as --hexdump=).
 */
function looksLikeOperand(word: string): boolean {
  // 127.0.0.1, a port, ::1 or [::1], fe80::1%2, localhost
  return /^[0-9]+(\.[0-9]+){3}$/.test(word) || /^[0-9]+$/.test(word) || /^\[?[0-9a-fA-F]*:[0-9a-fA-F:.]*(%[0-9]+)?\]?$/.test(word) || word === 'localhost';
}

export function hexdumpBeforeOperands(cmd: Command): Command {
  const parse = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (args: string[]) => {
    const out = [...args];
    for (let i = 0; i < out.length - 1; i++) {
      if ((out[i] === '-x' || out[i] === '--hexdump') && looksLikeOperand(out[i + 1]!)) out[i] = '--hexdump=';
    }
    return parse(out);
  };
  return cmd;
}

/** The end of a listener: what arrived and, when the kernel dropped some, how many. */
export function reportListenEnd(op: string, stats: ListenStats, verbose: boolean): void {
  const dropped = stats.dropped ?? 0;
  if (settings.json) {
    // Only when it matters, so that a stream of datagram lines stays just that.
    if (dropped > 0 || verbose) writeStdout(jsonLine({ event: 'end', received: stats.received, dropped: stats.dropped }));
    return;
  }
  if (dropped > 0) {
    writeStderr(
      `ipcctl: ${op}: ${stats.received} datagram${stats.received === 1 ? '' : 's'} received, ${dropped} dropped by the kernel (the receive queue was full)\n`,
    );
  } else if (verbose) writeStderr(`ipcctl: ${op}: ${stats.received} datagram${stats.received === 1 ? '' : 's'} received, none dropped\n`);
}

// The client side of `tcp connect` and `unix connect` (stream): flags,
// their checks, and the run that prints the peer's bytes and the events.
// Shared here so that no command imports another.
import { UsageError } from '../../errors.js';
import type { SockAddr } from '../../ipc/net/address.js';
import { jsonLine, payloadFields } from '../../output/json.js';
import { OutputClosedError, writeStderr, writeStdout } from '../../output/sink.js';
import { preloadSpinner } from '../../output/spinner.js';
import { settings } from '../../output/style.js';
import { ConnectFeedback } from './feedback.js';

/** A closed stdout ends a stream command quietly, as the contract says. */
export async function quietOnClosedOutput(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (e instanceof OutputClosedError) return;
    throw e;
  }
}

export interface ConnectFlags {
  source?: string;
  sourcePort?: number;
  shutdown?: boolean;
  crlf?: boolean;
  hexdump?: string | boolean;
  send?: string;
  timeout?: number;
  zero?: boolean;
  linger?: number;
  verbose?: boolean;
  progress?: boolean;
}

/** The client side, shared with `unix connect` (which passes its own address). */
export async function runConnect(op: string, address: import('../../ipc/net/address.js').SockAddr, opts: ConnectFlags) {
  const spinnerReady = preloadSpinner();
  const { formatAddress, addressFields } = await import('../../ipc/net/address.js');
  const { connect } = await import('../../ipc/net/stream.js');
  const json = settings.json;
  if (opts.zero && (opts.crlf || opts.hexdump !== undefined)) throw new UsageError(`${op}: -z sends nothing: --crlf and --hexdump do not apply`);
  let source: SockAddr | undefined;
  if (address.family === 'unix') {
    // socat's UNIX-CONNECT:...,bind=PATH: our end gets a name the server sees (getpeername).
    if (opts.sourcePort !== undefined) throw new UsageError(`${op}: --source-port is for TCP: a UNIX socket has no port (use --source PATH)`);
    if (opts.source !== undefined) {
      if (opts.source === '' || opts.source === '@') throw new UsageError(`${op}: empty --source path`);
      source = { family: 'unix', path: opts.source };
    }
  } else if (opts.source !== undefined || opts.sourcePort !== undefined) {
    const { parseHost } = await import('../../ipc/net/address.js');
    const any = address.family === 'inet6' ? '::' : '0.0.0.0';
    source = await parseHost(opts.source ?? any, opts.sourcePort ?? 0);
    if (source.family !== address.family) throw new UsageError(`${op}: --source ${opts.source} is not of the same family as ${formatAddress(address)}`);
  }
  const { TrafficDump } = await import('../../output/traffic.js');
  const dump = opts.hexdump !== undefined ? new TrafficDump(opts.hexdump as string) : null;
  const onData = json
    ? (chunk: Buffer) => {
        dump?.chunk('received', chunk);
        writeStdout(jsonLine({ event: 'data', size: chunk.length, ...payloadFields(chunk) }));
      }
    : dump
      ? (chunk: Buffer) => dump.chunk('received', chunk)
      : undefined;
  await spinnerReady;
  const feedback = new ConnectFeedback(op, formatAddress(address), opts.progress && !opts.zero);
  try {
    await quietOnClosedOutput(async () => {
      const r = await connect(
        {
          op,
          address,
          timeoutMs: opts.timeout,
          input: opts.zero ? null : opts.send !== undefined ? Buffer.from(opts.send) : 0,
          output: json ? null : 1,
          onData,
          onSent: dump ? (chunk) => dump.chunk('sent', chunk) : undefined,
          source,
          noShutdown: opts.shutdown === false,
          crlf: Boolean(opts.crlf),
          zero: Boolean(opts.zero),
          linger: opts.linger,
          meter: feedback.meter,
        },
        ({ local }) => {
          feedback.connected();
          if (json) writeStdout(jsonLine({ event: 'connected', ...addressFields(address), local: addressFields(local) }));
          else if (opts.verbose || opts.zero) {
            if (opts.zero && !opts.verbose) return;
            writeStderr(`ipcctl: ${op}: connected to ${formatAddress(address)}${local.family !== 'unix' ? ` from ${formatAddress(local)}` : ''}\n`);
          }
        },
      );
      feedback.end();
      if (json) writeStdout(jsonLine({ event: 'closed', sent: r.sent, received: r.received }));
      else if (opts.verbose && !opts.zero) writeStderr(`ipcctl: ${op}: closed, ${r.sent} bytes sent, ${r.received} received\n`);
    });
  } finally {
    feedback.end();
    dump?.close();
  }
}

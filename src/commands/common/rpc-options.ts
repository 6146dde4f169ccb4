// What every `rpc` command shares: the transport options (--udp/--tcp,
// --timeout, --retry, --port, --verbose), the host, and the verbose notes.
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { writeStderr } from '../../output/sink.js';
import { asDuration, parseInteger } from './args.js';

export const asUint = (what: string) => (v: string) => parseInteger(v, what, 0, 0xffffffff);

export interface TransportFlags {
  udp?: boolean;
  tcp?: boolean;
  timeout: number;
  retry: number;
  port?: number;
  verbose?: boolean;
}

export function protoOf(f: TransportFlags, fallback: 'udp' | 'tcp'): 'udp' | 'tcp' {
  if (f.udp && f.tcp) throw new UsageError('give --udp or --tcp, not both');
  return f.udp ? 'udp' : f.tcp ? 'tcp' : fallback;
}

export async function hostOf(text: string | undefined) {
  const { parseHost } = await import('../../ipc/net/address.js');
  return parseHost(text ?? '127.0.0.1', 111);
}

export function verboseHooks(op: string, f: TransportFlags) {
  if (!f.verbose) return {};
  return {
    onIgnored: (why: string) => writeStderr(`ipcctl: ${op}: ignored ${why}\n`),
    onRetransmit: (n: number) => writeStderr(`ipcctl: ${op}: no reply yet, sending again (retransmission ${n})\n`),
  };
}

/** The transport half of a call's spec (ping, call), from the flags every rpc command shares. */
export function transportOf(op: string, f: TransportFlags, fallback: 'udp' | 'tcp') {
  return { op, port: f.port, proto: protoOf(f, fallback), timeoutMs: f.timeout, retryMs: f.retry, ...verboseHooks(op, f) };
}

export function addTransportOptions(cmd: Command, fallback: 'udp' | 'tcp', withPort = true): Command {
  cmd
    .option('--udp', `over UDP${fallback === 'udp' ? ' (the default)' : ''}`)
    .option('--tcp', `over TCP${fallback === 'tcp' ? ' (the default)' : ''}`)
    .addOption(cmd.createOption('--timeout <dur>', 'give up after DUR without a reply (exit 124)').argParser(asDuration).default(10_000, '10s'));
  if (fallback === 'udp')
    cmd.addOption(
      cmd.createOption('--retry <dur>', 'UDP: send again after DUR without a reply, doubling each time').argParser(asDuration).default(500, '500ms'),
    );
  if (withPort)
    cmd.addOption(cmd.createOption('-p, --port <port>', 'call this port; do not ask the portmapper').argParser((v) => parseInteger(v, 'port', 1, 65535)));
  return cmd.option('-v, --verbose', 'report retransmissions, ignored replies and the round trip on stderr');
}

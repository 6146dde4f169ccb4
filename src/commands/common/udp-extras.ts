// What `udp listen` and `udp send` gained beyond plain datagrams, kept apart
// from udp.ts: multicast (--group/--iface, --ttl/--loop), a program per
// datagram (--exec/--sh), and -x/--hexdump of the datagrams.
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { SockAddr } from '../../ipc/net/address.js';
import type { Datagram } from '../../ipc/net/datagram.js';
import type { Group } from '../../ipc/net/multicast.js';
import { jsonLine } from '../../output/json.js';
import { writeStderr, writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import type { TrafficDump } from '../../output/traffic.js';
import { parseInteger } from './args.js';

export interface ListenExtras {
  group?: string;
  iface?: string;
  exec?: string;
  sh?: string;
  hexdump?: string | boolean;
}

export interface SendExtras {
  ttl?: number;
  loop?: boolean;
  iface?: string;
  hexdump?: string | boolean;
}

export function addListenExtras(cmd: Command): Command {
  return cmd
    .option('-g, --group <addr>', 'join this multicast group (IPv4 224.0.0.0/4 or IPv6 ff00::/8); several listeners may share it')
    .option('--iface <if>', 'with --group: the interface, by IPv4 address, name (lo) or index')
    .option('--exec <cmd>', 'run CMD per datagram, the datagram on its stdin; its stdout goes back as the reply')
    .option('-c, --sh <cmd>', 'like --exec, but CMD is a shell command (/bin/sh -c)')
    .option('-x, --hexdump [file]', 'dump each datagram as hexdump -C (to FILE, else stderr)');
}

export function addSendExtras(cmd: Command): Command {
  return cmd
    .addOption(
      cmd.createOption('--ttl <n>', 'to a multicast group: TTL (IPv4) or hop limit (IPv6), 0..255').argParser((v: string) => parseInteger(v, 'ttl', 0, 255)),
    )
    .option('--loop', 'to a multicast group: deliver to listeners on this machine too (the Linux default)')
    .option('--no-loop', 'to a multicast group: do not deliver to this machine')
    .option('--iface <if>', 'to a multicast group: send through this interface (IPv4 address, name or index)')
    .option('-x, --hexdump [file]', 'dump each datagram sent as hexdump -C (to FILE, else stderr)');
}

/** The address to bind and the group to join for `udp listen`. */
export async function listenTarget(o: ListenExtras, address: SockAddr, port: number): Promise<{ address: SockAddr; group?: Group }> {
  if (o.group === undefined) {
    if (o.iface !== undefined) throw new UsageError('udp listen: --iface needs --group');
    return { address };
  }
  const { parseGroup } = await import('../../ipc/net/multicast.js');
  const group = parseGroup(o.group, o.iface);
  const bound: SockAddr =
    group.family === 'inet'
      ? { family: 'inet', address: group.address, port }
      : { family: 'inet6', address: group.address, port, scopeId: group.iface && 'index' in group.iface ? group.iface.index : 0 };
  return { address: bound, group };
}

/** Multicast options for `udp send`, checked against the destination. */
export async function sendMulticast(o: SendExtras, to: SockAddr) {
  const given = o.ttl !== undefined || o.loop !== undefined || o.iface !== undefined;
  if (!given || to.family === 'unix') return undefined;
  const { isGroupAddress, parseIface } = await import('../../ipc/net/multicast.js');
  if (!isGroupAddress(to.family, to.address)) throw new UsageError(`udp send: --ttl, --loop and --iface are for a multicast group; ${to.address} is not one`);
  return { ttl: o.ttl, loop: o.loop, iface: parseIface(o.iface, to.family) };
}

export async function openDump(o: { hexdump?: string | boolean }): Promise<TrafficDump | null> {
  if (o.hexdump === undefined) return null;
  const { TrafficDump } = await import('../../output/traffic.js');
  return new TrafficDump(o.hexdump as string);
}

/** Each datagram into the dump, marked with its sender. */
export function dumpDatagrams(dump: TrafficDump | null, format: (a: SockAddr) => string) {
  return (batch: Datagram[]) => {
    if (dump) for (const d of batch) dump.chunk('received', d.data, format(d.from()));
  };
}

/** `udp listen --exec`: run the program per datagram. */
export async function runUdpExec(
  o: ListenExtras & { count?: number; timeout?: number; verbose?: boolean; reuseaddr?: boolean },
  address: SockAddr,
  group: Group | undefined,
  showListening: boolean,
) {
  const op = 'udp listen';
  const { formatAddress, addressFields } = await import('../../ipc/net/address.js');
  const { programFor } = await import('../../ipc/net/program.js');
  const program = programFor(op, o.exec, o.sh);
  if (o.hexdump !== undefined) throw new UsageError(`${op}: --hexdump does not apply to --exec`);
  const { listenExec } = await import('../../ipc/net/udp-exec.js');
  const json = settings.json;
  const command = o.sh ?? o.exec!;
  await listenExec({
    op,
    address,
    group,
    reuseaddr: Boolean(o.reuseaddr),
    count: o.count,
    idleMs: o.timeout,
    program,
    onListening: (local) => {
      if (json) writeStdout(jsonLine({ event: 'listening', ...addressFields(local), exec: command }));
      else if (o.verbose || showListening) writeStderr(`ipcctl: ${op}: listening on ${formatAddress(local)}\n`);
    },
    onStderr: (peer, line) => writeStderr(`[${formatAddress(peer)}] ${line}\n`),
    onExit: (n, _peer, pid, s) => {
      if (json) writeStdout(jsonLine({ event: 'exit', datagram: n, pid, code: s.code, signal: s.signal }));
      else if (o.verbose)
        writeStderr(
          `ipcctl: ${op}: datagram ${n}: ${command} (pid ${pid}) ${s.code !== null ? `exited with status ${s.code}` : `killed by signal ${s.signal}`}\n`,
        );
    },
    onReply: (n, peer, size) => {
      if (json) writeStdout(jsonLine({ event: 'reply', datagram: n, ...addressFields(peer), size }));
      else if (o.verbose) writeStderr(`ipcctl: ${op}: datagram ${n}: ${size} bytes back to ${formatAddress(peer)}\n`);
    },
  });
}

// What `rpc call` and `rpc ping` do: find the port through the portmapper
// (unless given), open one client, make the call (N times with --count), and
// turn every reply into results or its RpcStatusError.
import { EXIT } from '../../errors.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import { formatAddress } from '../net/address.js';
import { type Proto, RpcClient } from './client.js';
import { type OpaqueAuth, NO_AUTH, RPC_VERSION } from './message.js';
import { getPort, IPPROTO_TCP, IPPROTO_UDP } from './portmap.js';
import { RpcStatusError, resultsOf } from './status.js';

export interface CallSpec {
  op: string;
  /** The server's address; its port is used only when `port` says so. */
  host: SockAddr;
  /** Skip the portmapper: call this port. */
  port?: number;
  proto: Proto;
  prog: number;
  vers: number;
  proc: number;
  args: Buffer;
  cred: OpaqueAuth;
  /** 2; other values only to see a server's RPC_MISMATCH. */
  rpcvers?: number;
  timeoutMs: number;
  retryMs: number;
  onIgnored?: (why: string) => void;
  onRetransmit?: (attempt: number) => void;
}

/** The address to call: --port, or the portmapper's answer for prog/vers over proto. */
export async function resolve(spec: Pick<CallSpec, 'op' | 'host' | 'port' | 'proto' | 'prog' | 'vers' | 'timeoutMs'>, anyVersion = false): Promise<SockAddr> {
  if (spec.host.family === 'unix') return spec.host;
  if (spec.port !== undefined) return { ...spec.host, port: spec.port };
  const port = await getPort(
    { op: spec.op, host: spec.host, proto: spec.proto, timeoutMs: spec.timeoutMs },
    spec.prog,
    spec.vers,
    spec.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
  );
  if (port === 0) {
    throw new RpcStatusError(
      `${spec.op}: program ${spec.prog}${anyVersion ? '' : ` version ${spec.vers}`} is not registered over ${spec.proto} with the portmapper at ${formatAddress({ ...spec.host, port: 111 })}`,
      EXIT.NO_OBJECT,
      'NOT_REGISTERED',
    );
  }
  return { ...spec.host, port };
}

export interface CallOutcome {
  results: Buffer;
  rttMs: number;
  retransmits: number;
}

/** A client of the server at `address`, with the transport options of `spec`. */
function clientFor(spec: Pick<CallSpec, 'op' | 'proto' | 'timeoutMs' | 'retryMs' | 'onIgnored' | 'onRetransmit'>, address: SockAddr): Promise<RpcClient> {
  return RpcClient.open({
    op: spec.op,
    address,
    proto: spec.proto,
    timeoutMs: spec.timeoutMs,
    retryMs: spec.retryMs,
    onIgnored: spec.onIgnored,
    onRetransmit: spec.onRetransmit,
  });
}

/** A client for repeated calls to one program/version/procedure. */
export class Caller {
  private constructor(
    private readonly client: RpcClient,
    private readonly spec: CallSpec,
    readonly address: SockAddr,
  ) {}

  static async open(spec: CallSpec): Promise<Caller> {
    const address = await resolve(spec);
    const client = await clientFor(spec, address);
    return new Caller(client, spec, address);
  }

  async call(): Promise<CallOutcome> {
    const s = this.spec;
    const r = await this.client.call({ rpcvers: s.rpcvers ?? RPC_VERSION, prog: s.prog, vers: s.vers, proc: s.proc, cred: s.cred, verf: NO_AUTH }, s.args);
    return { results: resultsOf(r.reply, s.op, s), rttMs: r.rttMs, retransmits: r.retransmits };
  }

  close(): void {
    this.client.close();
  }
}

export interface RepeatedCall {
  /** The first call's outcome (the one shown). */
  first: CallOutcome;
  /** Where the calls went (the portmapper's answer, or --port). */
  address: SockAddr;
  /** How long all of them took, from the first call on. */
  seconds: number;
}

/** Make the call `count` times on one socket (--count): what the first answered, and the time all took. */
export async function callRepeatedly(spec: CallSpec, count: number): Promise<RepeatedCall> {
  const caller = await Caller.open(spec);
  try {
    const t0 = performance.now();
    const first = await caller.call();
    for (let i = 1; i < count; i++) await caller.call();
    return { first, address: caller.address, seconds: (performance.now() - t0) / 1000 };
  } finally {
    caller.close();
  }
}

export interface PingResult {
  vers: number;
  ok: boolean;
  rttMs?: number;
  /** Why a version is not available (its status line). */
  error?: string;
  exitCode?: number;
}

/**
 * The NULL procedure, as rpcinfo -u/-t. With no version: call version 0,
 * take the server's PROG_MISMATCH range, and ping each version in it.
 */
export async function ping(spec: Omit<CallSpec, 'vers' | 'proc' | 'args'> & { vers?: number }): Promise<PingResult[]> {
  const vers = spec.vers ?? 0;
  // GETPORT with version 0: rpcbind answers with the port of any version it has.
  const address = await resolve({ ...spec, vers }, spec.vers === undefined);
  const client = await clientFor(spec, address);
  const one = async (v: number, probing: boolean): Promise<PingResult> => {
    const r = await client.call({ rpcvers: spec.rpcvers ?? RPC_VERSION, prog: spec.prog, vers: v, proc: 0, cred: spec.cred, verf: NO_AUTH }, Buffer.alloc(0));
    try {
      resultsOf(r.reply, spec.op, { prog: spec.prog, vers: v, proc: 0 });
      return { vers: v, ok: true, rttMs: r.rttMs };
    } catch (e) {
      if (!(e instanceof RpcStatusError)) throw e;
      if (probing && e.status === 'PROG_MISMATCH') throw e;
      return { vers: v, ok: false, error: e.message, exitCode: e.exitCode };
    }
  };
  try {
    try {
      return [await one(vers, spec.vers === undefined)];
    } catch (e) {
      if (!(e instanceof RpcStatusError) || e.status !== 'PROG_MISMATCH') throw e;
      const out: PingResult[] = [];
      const { low, high } = e.detail as { low: number; high: number };
      // A server may claim a huge range; rpcinfo walks it all, we stop at 64 versions.
      for (let v = low; v <= Math.min(high, low + 63); v++) out.push(await one(v, false));
      return out;
    }
  } finally {
    client.close();
  }
}

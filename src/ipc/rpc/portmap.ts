// The portmapper (program 100000 version 2, port 111; RFC 1833's PMAP):
// GETPORT to find a service, DUMP to list every mapping, SET and UNSET for a
// server of our own. rpcbind answers these beside its versions 3 and 4.
import { EXIT, IpcError, OperationError } from '../../errors.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import { formatAddress } from '../net/address.js';
import { type Proto, RpcClient } from './client.js';
import { NO_AUTH, RPC_VERSION } from './message.js';
import { resultsOf } from './status.js';
import { XdrDecodeError, XdrReader, XdrWriter } from './xdr.js';

export const PMAP_PROG = 100000;
export const PMAP_VERS = 2;
export const PMAP_PORT = 111;
const PMAPPROC_SET = 1;
const PMAPPROC_UNSET = 2;
const PMAPPROC_GETPORT = 3;
const PMAPPROC_DUMP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export interface Mapping {
  prog: number;
  vers: number;
  /** 6 tcp, 17 udp */
  prot: number;
  port: number;
}

export function protoName(prot: number): string {
  return prot === IPPROTO_TCP ? 'tcp' : prot === IPPROTO_UDP ? 'udp' : String(prot);
}

export interface PortmapOptions {
  op: string;
  host: SockAddr;
  proto: Proto;
  timeoutMs: number;
}

function at111(host: SockAddr): SockAddr {
  return host.family === 'unix' ? host : { ...host, port: PMAP_PORT };
}

/** One call to the portmapper; "nobody listens on 111" becomes one line that says how to start rpcbind. */
async function pmapCall(o: PortmapOptions, proc: number, args: Buffer): Promise<Buffer> {
  const address = at111(o.host);
  const what = `${o.op}: portmapper at ${formatAddress(address)}`;
  let client: RpcClient;
  try {
    client = await RpcClient.open({ op: `${o.op}: portmapper`, address, proto: o.proto, timeoutMs: o.timeoutMs, retryMs: Math.min(1000, o.timeoutMs) });
  } catch (e) {
    throw noPortmapper(e, what);
  }
  try {
    const { reply } = await client.call({ rpcvers: RPC_VERSION, prog: PMAP_PROG, vers: PMAP_VERS, proc, cred: NO_AUTH, verf: NO_AUTH }, args);
    return resultsOf(reply, `${o.op}: portmapper`, { prog: PMAP_PROG, vers: PMAP_VERS, proc });
  } catch (e) {
    throw noPortmapper(e, what);
  } finally {
    client.close();
  }
}

function noPortmapper(e: unknown, what: string): unknown {
  if (e instanceof IpcError && e.code === 'ECONNREFUSED') {
    return new OperationError(`${what}: ECONNREFUSED, no portmapper is running`, EXIT.FAILED, "start one as root with 'rpcbind -w -f', or give --port");
  }
  return e;
}

function mappingArgs(m: Mapping): Buffer {
  const w = new XdrWriter(16);
  w.uint(m.prog);
  w.uint(m.vers);
  w.uint(m.prot);
  w.uint(m.port);
  return Buffer.from(w.bytes());
}

function malformed(o: PortmapOptions, e: unknown): never {
  if (e instanceof XdrDecodeError) throw new OperationError(`${o.op}: malformed portmapper reply at byte ${e.offset}: ${e.detail}`);
  throw e;
}

/** PMAPPROC_GETPORT: the port of prog/vers over `prot`, 0 when not registered. */
export async function getPort(o: PortmapOptions, prog: number, vers: number, prot: number): Promise<number> {
  const res = await pmapCall(o, PMAPPROC_GETPORT, mappingArgs({ prog, vers, prot, port: 0 }));
  try {
    const r = new XdrReader(res);
    const port = r.uint('port');
    r.end();
    return port;
  } catch (e) {
    return malformed(o, e);
  }
}

/** PMAPPROC_DUMP: every mapping, in the portmapper's order. */
export async function dump(o: PortmapOptions): Promise<Mapping[]> {
  const res = await pmapCall(o, PMAPPROC_DUMP, Buffer.alloc(0));
  try {
    const r = new XdrReader(res);
    const out: Mapping[] = [];
    // pmaplist is XDR optional-data: a bool "another follows" before each entry.
    for (;;) {
      const at = r.offset;
      const more = r.uint('pmaplist more');
      if (more > 1) throw new XdrDecodeError(at, `pmaplist bool is ${more}`);
      if (more === 0) break;
      out.push({ prog: r.uint('prog'), vers: r.uint('vers'), prot: r.uint('prot'), port: r.uint('port') });
    }
    r.end();
    return out;
  } catch (e) {
    return malformed(o, e);
  }
}

async function boolCall(o: PortmapOptions, proc: number, m: Mapping): Promise<boolean> {
  const res = await pmapCall(o, proc, mappingArgs(m));
  try {
    const r = new XdrReader(res);
    const v = r.uint('bool');
    r.end();
    return v === 1;
  } catch (e) {
    return malformed(o, e);
  }
}

/** PMAPPROC_SET: register a mapping; false when the portmapper refused (taken already). */
export function set(o: PortmapOptions, m: Mapping): Promise<boolean> {
  return boolCall(o, PMAPPROC_SET, m);
}

/** PMAPPROC_UNSET: remove every mapping of prog/vers (any protocol). */
export function unset(o: PortmapOptions, prog: number, vers: number): Promise<boolean> {
  return boolCall(o, PMAPPROC_UNSET, { prog, vers, prot: 0, port: 0 });
}

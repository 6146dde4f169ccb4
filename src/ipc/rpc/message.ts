// ONC RPC version 2 messages (RFC 5531): the call header a client sends,
// the reply a server sends back, and the status names of every way a reply
// can say no. Encoding and decoding only: transports live beside this.
import { XdrDecodeError, XdrReader, XdrWriter } from './xdr.js';

export const CALL = 0;
export const REPLY = 1;
export const RPC_VERSION = 2;

export const AUTH_NONE = 0;
export const AUTH_SYS = 1;

export const ACCEPT_STAT = ['SUCCESS', 'PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR'] as const;
export type AcceptStat = (typeof ACCEPT_STAT)[number];

export const AUTH_STAT: Record<number, string> = {
  0: 'AUTH_OK',
  1: 'AUTH_BADCRED',
  2: 'AUTH_REJECTEDCRED',
  3: 'AUTH_BADVERF',
  4: 'AUTH_REJECTEDVERF',
  5: 'AUTH_TOOWEAK',
  6: 'AUTH_INVALIDRESP',
  7: 'AUTH_FAILED',
  8: 'AUTH_KERB_GENERIC',
  9: 'AUTH_TIMEEXPIRE',
  10: 'AUTH_TKT_FILE',
  11: 'AUTH_DECODE',
  12: 'AUTH_NET_ADDR',
  13: 'RPCSEC_GSS_CREDPROBLEM',
  14: 'RPCSEC_GSS_CTXPROBLEM',
};

export function authStatName(n: number): string {
  return AUTH_STAT[n] ?? `auth_stat ${n}`;
}

export function authStatNumber(name: string): number {
  for (const [n, s] of Object.entries(AUTH_STAT)) if (s === name) return Number(n);
  throw new Error(`unknown auth_stat ${name}`);
}

/** A credential or verifier: flavour and body (at most 400 bytes). */
export interface OpaqueAuth {
  flavor: number;
  body: Buffer;
}

export const NO_AUTH: OpaqueAuth = { flavor: AUTH_NONE, body: Buffer.alloc(0) };

export interface AuthSys {
  stamp: number;
  machine: string;
  uid: number;
  gid: number;
  gids: number[];
}

/** The body of an AUTH_SYS credential (RFC 5531 appendix A). */
export function encodeAuthSys(a: AuthSys): OpaqueAuth {
  const w = new XdrWriter(64);
  w.uint(a.stamp);
  w.variable(Buffer.from(a.machine));
  w.uint(a.uid);
  w.uint(a.gid);
  w.uint(a.gids.length);
  for (const g of a.gids) w.uint(g);
  return { flavor: AUTH_SYS, body: Buffer.from(w.bytes()) };
}

/** An AUTH_SYS body, or null when it is malformed (the server answers AUTH_BADCRED). */
export function decodeAuthSys(body: Buffer): AuthSys | null {
  try {
    const r = new XdrReader(body);
    const stamp = r.uint();
    const machine = r.variable('machinename', 255).toString('utf8');
    const uid = r.uint();
    const gid = r.uint();
    const n = r.uint();
    if (n > 16) return null;
    const gids: number[] = [];
    for (let i = 0; i < n; i++) gids.push(r.uint());
    r.end();
    return { stamp, machine, uid, gid, gids };
  } catch {
    return null;
  }
}

export interface CallHeader {
  xid: number;
  rpcvers: number;
  prog: number;
  vers: number;
  proc: number;
  cred: OpaqueAuth;
  verf: OpaqueAuth;
}

function writeAuth(w: XdrWriter, a: OpaqueAuth): void {
  w.uint(a.flavor);
  w.variable(a.body);
}

function readAuth(r: XdrReader, what: string): OpaqueAuth {
  return { flavor: r.uint(`${what} flavor`), body: Buffer.from(r.variable(`${what} body`, 400)) };
}

/** A call message: the header, then the argument bytes (already XDR). */
export function encodeCall(h: CallHeader, args: Buffer): Buffer {
  const w = new XdrWriter(64 + h.cred.body.length + args.length);
  w.uint(h.xid);
  w.uint(CALL);
  w.uint(h.rpcvers);
  w.uint(h.prog);
  w.uint(h.vers);
  w.uint(h.proc);
  writeAuth(w, h.cred);
  writeAuth(w, h.verf);
  w.fixed(args);
  return w.bytes();
}

/** A call as a server reads it: header and the argument bytes after it. Throws XdrDecodeError. */
export function decodeCall(msg: Buffer): { header: CallHeader; args: Buffer } {
  const r = new XdrReader(msg);
  const xid = r.uint('xid');
  const type = r.uint('msg_type');
  if (type !== CALL) throw new XdrDecodeError(4, `msg_type ${type} is not CALL`);
  const rpcvers = r.uint('rpcvers');
  const prog = r.uint('prog');
  const vers = r.uint('vers');
  const proc = r.uint('proc');
  const cred = readAuth(r, 'credential');
  const verf = readAuth(r, 'verifier');
  return { header: { xid, rpcvers, prog, vers, proc, cred, verf }, args: msg.subarray(r.offset) };
}

/** What a reply says, every case told apart. */
export type Reply =
  | { xid: number; kind: 'accepted'; verf: OpaqueAuth; stat: 'SUCCESS'; results: Buffer }
  | { xid: number; kind: 'accepted'; verf: OpaqueAuth; stat: 'PROG_MISMATCH'; low: number; high: number }
  | { xid: number; kind: 'accepted'; verf: OpaqueAuth; stat: 'PROG_UNAVAIL' | 'PROC_UNAVAIL' | 'GARBAGE_ARGS' | 'SYSTEM_ERR' }
  | { xid: number; kind: 'rpc_mismatch'; low: number; high: number }
  | { xid: number; kind: 'auth_error'; authStat: number };

/** The XID and message type at the start of a datagram or record, or null when too short. */
export function peekXid(msg: Buffer): { xid: number; type: number } | null {
  if (msg.length < 8) return null;
  return { xid: msg.readUInt32BE(0), type: msg.readUInt32BE(4) };
}

/** Decode a reply message. Throws XdrDecodeError when it is malformed. */
export function decodeReply(msg: Buffer): Reply {
  const r = new XdrReader(msg);
  const xid = r.uint('xid');
  const type = r.uint('msg_type');
  if (type !== REPLY) throw new XdrDecodeError(4, `msg_type ${type} is not REPLY`);
  const at = r.offset;
  const replyStat = r.uint('reply_stat');
  if (replyStat === 0) {
    const verf = readAuth(r, 'verifier');
    const sat = r.offset;
    const stat = r.uint('accept_stat');
    const name = ACCEPT_STAT[stat];
    if (!name) throw new XdrDecodeError(sat, `accept_stat ${stat} is not one RFC 5531 defines`);
    if (name === 'SUCCESS') return { xid, kind: 'accepted', verf, stat: name, results: msg.subarray(r.offset) };
    if (name === 'PROG_MISMATCH') {
      const low = r.uint('low version');
      const high = r.uint('high version');
      return { xid, kind: 'accepted', verf, stat: name, low, high };
    }
    return { xid, kind: 'accepted', verf, stat: name };
  }
  if (replyStat === 1) {
    const rat = r.offset;
    const rejectStat = r.uint('reject_stat');
    if (rejectStat === 0) {
      const low = r.uint('low version');
      const high = r.uint('high version');
      return { xid, kind: 'rpc_mismatch', low, high };
    }
    if (rejectStat === 1) return { xid, kind: 'auth_error', authStat: r.uint('auth_stat') };
    throw new XdrDecodeError(rat, `reject_stat ${rejectStat} is not RPC_MISMATCH or AUTH_ERROR`);
  }
  throw new XdrDecodeError(at, `reply_stat ${replyStat} is not MSG_ACCEPTED or MSG_DENIED`);
}

/** What a server sends back; `body` follows accept_stat SUCCESS. */
export type ReplyBody =
  | { kind: 'success'; results: Buffer }
  | { kind: 'accepted'; stat: 'PROG_UNAVAIL' | 'PROC_UNAVAIL' | 'GARBAGE_ARGS' | 'SYSTEM_ERR' }
  | { kind: 'prog_mismatch'; low: number; high: number }
  | { kind: 'rpc_mismatch'; low: number; high: number }
  | { kind: 'auth_error'; authStat: number };

export function encodeReply(xid: number, body: ReplyBody): Buffer {
  const w = new XdrWriter(64 + (body.kind === 'success' ? body.results.length : 0));
  w.uint(xid);
  w.uint(REPLY);
  if (body.kind === 'rpc_mismatch' || body.kind === 'auth_error') {
    w.uint(1); // MSG_DENIED
    if (body.kind === 'rpc_mismatch') {
      w.uint(0);
      w.uint(body.low);
      w.uint(body.high);
    } else {
      w.uint(1);
      w.uint(body.authStat);
    }
    return w.bytes();
  }
  w.uint(0); // MSG_ACCEPTED
  writeAuth(w, NO_AUTH);
  if (body.kind === 'success') {
    w.uint(0);
    w.fixed(body.results);
  } else if (body.kind === 'prog_mismatch') {
    w.uint(ACCEPT_STAT.indexOf('PROG_MISMATCH'));
    w.uint(body.low);
    w.uint(body.high);
  } else w.uint(ACCEPT_STAT.indexOf(body.stat));
  return w.bytes();
}

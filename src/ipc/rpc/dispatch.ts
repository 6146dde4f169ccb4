// What `rpc serve` answers to one call message, in the order RFC 5531 and
// libtirpc check: RPC version (RPC_MISMATCH), credential (AUTH_ERROR),
// program (PROG_UNAVAIL), version (PROG_MISMATCH), then the procedure:
// 0 NULL, 1 echo, others run --exec CMD (SYSTEM_ERR when it fails) or are
// PROC_UNAVAIL; arguments that do not decode as --args are GARBAGE_ARGS.
// Socket-free: server.ts feeds it messages and sends what it returns.
import { spawn } from 'node:child_process';
import {
  type AuthSys,
  AUTH_NONE,
  AUTH_SYS,
  authStatName,
  authStatNumber,
  CALL,
  decodeAuthSys,
  decodeCall,
  encodeReply,
  type ReplyBody,
  RPC_VERSION,
} from './message.js';
import { decodeAll } from './xdr.js';
import type { XdrType } from './xdr-types.js';

export interface DispatchOptions {
  prog: number;
  versions: number[];
  /** Refuse AUTH_NONE with AUTH_TOOWEAK. */
  requireAuthSys: boolean;
  /** Procedures other than 0 must carry arguments of these types. */
  argTypes?: XdrType[];
  /** Run for procedures other than 0 and 1: argument bytes on stdin, stdout is the result. */
  exec?: string;
}

export interface CallLog {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  /** AUTH_NONE, AUTH_SYS, or the flavour number. */
  auth: string;
  uid?: number;
  gid?: number;
  argBytes: number;
  /** SUCCESS, PROG_UNAVAIL, ..., RPC_MISMATCH, AUTH_ERROR AUTH_TOOWEAK */
  status: string;
  resultBytes: number;
}

export interface Answer {
  reply: Buffer;
  log: CallLog;
}

function statusOf(b: ReplyBody): string {
  switch (b.kind) {
    case 'success':
      return 'SUCCESS';
    case 'accepted':
      return b.stat;
    case 'prog_mismatch':
      return 'PROG_MISMATCH';
    case 'rpc_mismatch':
      return 'RPC_MISMATCH';
    case 'auth_error':
      return `AUTH_ERROR ${authStatName(b.authStat)}`;
  }
}

/** Run CMD with the arguments on stdin; its stdout, or null when it failed. */
function runExec(cmd: string, args: Buffer, env: Record<string, string>): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stdin.on('error', () => {}); // a command that does not read its stdin
    child.stdin.end(args);
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code === 0 ? Buffer.concat(out) : null));
  });
}

/**
 * The reply to `msg` from `peer` ("127.0.0.1:41000"), or null when the
 * message is not a call at all (RFC 5531 gives no way to answer it).
 * Synchronous except for --exec: the server's poll loop sends the answer
 * at once instead of at its next turn of the event loop.
 */
export function dispatch(msg: Buffer, peer: string, o: DispatchOptions): Answer | null | Promise<Answer> {
  if (msg.length < 12 || msg.readUInt32BE(4) !== CALL) return null;
  const xid = msg.readUInt32BE(0);
  const log: CallLog = { xid, prog: 0, vers: 0, proc: 0, auth: '', argBytes: 0, status: '', resultBytes: 0 };
  const answer = (body: ReplyBody): Answer => {
    log.status = statusOf(body);
    log.resultBytes = body.kind === 'success' ? body.results.length : 0;
    return { reply: encodeReply(xid, body), log };
  };
  const rpcvers = msg.readUInt32BE(8);
  if (rpcvers !== RPC_VERSION) return answer({ kind: 'rpc_mismatch', low: RPC_VERSION, high: RPC_VERSION });
  let call;
  try {
    call = decodeCall(msg);
  } catch {
    // The header ends inside the credential or verifier.
    return answer({ kind: 'auth_error', authStat: authStatNumber('AUTH_BADCRED') });
  }
  const h = call.header;
  Object.assign(log, { prog: h.prog, vers: h.vers, proc: h.proc, argBytes: call.args.length });
  let sys: AuthSys | null = null;
  if (h.cred.flavor === AUTH_SYS) {
    log.auth = 'AUTH_SYS';
    sys = decodeAuthSys(h.cred.body);
    if (!sys) return answer({ kind: 'auth_error', authStat: authStatNumber('AUTH_BADCRED') });
    log.uid = sys.uid;
    log.gid = sys.gid;
  } else if (h.cred.flavor === AUTH_NONE) {
    log.auth = 'AUTH_NONE';
    if (o.requireAuthSys) return answer({ kind: 'auth_error', authStat: authStatNumber('AUTH_TOOWEAK') });
  } else {
    log.auth = `flavour ${h.cred.flavor}`;
    return answer({ kind: 'auth_error', authStat: authStatNumber('AUTH_REJECTEDCRED') });
  }
  if (h.verf.flavor !== AUTH_NONE) return answer({ kind: 'auth_error', authStat: authStatNumber('AUTH_REJECTEDVERF') });
  if (h.prog !== o.prog) return answer({ kind: 'accepted', stat: 'PROG_UNAVAIL' });
  if (!o.versions.includes(h.vers)) return answer({ kind: 'prog_mismatch', low: Math.min(...o.versions), high: Math.max(...o.versions) });
  if (h.proc === 0) return answer({ kind: 'success', results: Buffer.alloc(0) });
  if (h.proc !== 1 && !o.exec) return answer({ kind: 'accepted', stat: 'PROC_UNAVAIL' });
  if (o.argTypes) {
    try {
      decodeAll(call.args, o.argTypes);
    } catch {
      return answer({ kind: 'accepted', stat: 'GARBAGE_ARGS' });
    }
  }
  if (h.proc === 1) return answer({ kind: 'success', results: Buffer.from(call.args) });
  const env: Record<string, string> = {
    RPC_PROG: String(h.prog),
    RPC_VERS: String(h.vers),
    RPC_PROC: String(h.proc),
    RPC_XID: String(xid),
    RPC_CLIENT: peer,
    RPC_AUTH: log.auth,
  };
  if (sys) Object.assign(env, { RPC_UID: String(sys.uid), RPC_GID: String(sys.gid), RPC_MACHINE: sys.machine });
  return runExec(o.exec!, call.args, env).then((out) =>
    out === null ? answer({ kind: 'accepted', stat: 'SYSTEM_ERR' }) : answer({ kind: 'success', results: out }),
  );
}

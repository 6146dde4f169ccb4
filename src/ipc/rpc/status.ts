// A reply that is not MSG_ACCEPTED/SUCCESS becomes one RpcStatusError: its
// status by the RFC's name, what that means in words, and the exit code of
// the contract (4 program/version/procedure not there, 5 AUTH_ERROR, 1 the
// rest). The man page's table is this one.
import { CliError, EXIT } from '../../errors.js';
import { authStatName, type Reply } from './message.js';

export class RpcStatusError extends CliError {
  constructor(
    message: string,
    exitCode: number,
    /** PROG_UNAVAIL, PROG_MISMATCH, ..., RPC_MISMATCH, AUTH_ERROR */
    readonly status: string,
    readonly detail: { low?: number; high?: number; authStat?: string } = {},
  ) {
    super(message, exitCode);
  }
}

export interface CallTarget {
  prog: number;
  vers: number;
  proc: number;
}

const AUTH_WORDS: Record<string, string> = {
  AUTH_BADCRED: 'the server could not read the credential',
  AUTH_REJECTEDCRED: 'the server rejected the credential (flavour not accepted)',
  AUTH_BADVERF: 'bad verifier',
  AUTH_REJECTEDVERF: 'the verifier was rejected',
  AUTH_TOOWEAK: 'the server wants stronger authentication (try --auth sys)',
  AUTH_INVALIDRESP: 'invalid response verifier',
  AUTH_FAILED: 'authentication failed',
  RPCSEC_GSS_CREDPROBLEM: 'no credentials for this user (RPCSEC_GSS)',
  RPCSEC_GSS_CTXPROBLEM: 'the security context is gone (RPCSEC_GSS)',
};

/** Throws RpcStatusError unless the reply is SUCCESS; returns the result bytes. */
export function resultsOf(reply: Reply, op: string, t: CallTarget): Buffer {
  if (reply.kind === 'accepted') {
    switch (reply.stat) {
      case 'SUCCESS':
        return reply.results;
      case 'PROG_UNAVAIL':
        throw new RpcStatusError(`${op}: PROG_UNAVAIL, the server does not offer program ${t.prog}`, EXIT.NO_OBJECT, 'PROG_UNAVAIL');
      case 'PROG_MISMATCH':
        throw new RpcStatusError(
          `${op}: PROG_MISMATCH, program ${t.prog} has no version ${t.vers} (the server has versions ${reply.low} to ${reply.high})`,
          EXIT.NO_OBJECT,
          'PROG_MISMATCH',
          { low: reply.low, high: reply.high },
        );
      case 'PROC_UNAVAIL':
        throw new RpcStatusError(`${op}: PROC_UNAVAIL, program ${t.prog} version ${t.vers} has no procedure ${t.proc}`, EXIT.NO_OBJECT, 'PROC_UNAVAIL');
      case 'GARBAGE_ARGS':
        throw new RpcStatusError(`${op}: GARBAGE_ARGS, the server could not decode the arguments of procedure ${t.proc}`, EXIT.FAILED, 'GARBAGE_ARGS');
      case 'SYSTEM_ERR':
        throw new RpcStatusError(`${op}: SYSTEM_ERR, the server failed to run procedure ${t.proc}`, EXIT.FAILED, 'SYSTEM_ERR');
    }
  }
  if (reply.kind === 'rpc_mismatch') {
    throw new RpcStatusError(`${op}: RPC_MISMATCH, the server speaks RPC versions ${reply.low} to ${reply.high}`, EXIT.FAILED, 'RPC_MISMATCH', {
      low: reply.low,
      high: reply.high,
    });
  }
  const name = authStatName(reply.authStat);
  throw new RpcStatusError(`${op}: AUTH_ERROR ${name}, ${AUTH_WORDS[name] ?? 'authentication failed'}`, EXIT.PERMISSION, 'AUTH_ERROR', { authStat: name });
}

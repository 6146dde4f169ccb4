// The words of `rpc call --auth ...` and `rpc serve --vers/--auth ...`: a
// credential for the call, the versions a server answers and the credential it asks for.
import { UsageError } from '../../errors.js';
import { asUint } from './rpc-options.js';

export interface CredentialFlags {
  auth: string;
  uid?: number;
  gid?: number;
  gids?: string;
  machine?: string;
}

export async function credentialOf(f: CredentialFlags) {
  const m = await import('../../ipc/rpc/message.js');
  const a = f.auth.trim().toLowerCase();
  const sysOnly = f.uid !== undefined || f.gid !== undefined || f.gids !== undefined || f.machine !== undefined;
  if (a === 'none' || a === '0') {
    if (sysOnly) throw new UsageError('rpc call: --uid, --gid, --gids and --machine need --auth sys');
    return m.NO_AUTH;
  }
  if (a === 'sys' || a === 'unix' || a === '1') {
    const { hostname } = await import('node:os');
    const gids = f.gids !== undefined ? (f.gids === '' ? [] : f.gids.split(',').map((g) => asUint('group id')(g))) : (process.getgroups?.() ?? []).slice(0, 16);
    if (gids.length > 16) throw new UsageError(`rpc call: --gids: at most 16 groups in AUTH_SYS, got ${gids.length}`);
    const machine = f.machine ?? hostname();
    if (Buffer.byteLength(machine) > 255) throw new UsageError('rpc call: --machine: at most 255 bytes');
    return m.encodeAuthSys({ stamp: Math.floor(Date.now() / 1000) >>> 0, machine, uid: f.uid ?? process.getuid!(), gid: f.gid ?? process.getgid!(), gids });
  }
  if (/^[0-9]+$/.test(a)) {
    // Any other flavour, with an empty body: to see how a server refuses it.
    return { flavor: asUint('credential flavour')(a), body: Buffer.alloc(0) };
  }
  throw new UsageError(`invalid --auth '${f.auth}': none, sys, or a flavour number`);
}

/** `rpc serve --auth`: none (accept AUTH_NONE and AUTH_SYS) or sys (require AUTH_SYS). */
export function requiresAuthSys(text: string): boolean {
  const auth = text.trim().toLowerCase();
  if (auth !== 'none' && auth !== 'sys') throw new UsageError(`invalid --auth '${text}': none (accept AUTH_NONE and AUTH_SYS) or sys (require AUTH_SYS)`);
  return auth === 'sys';
}

/** --vers: a version, a list (1,2) or a range (1-3). */
export function versionsOf(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`invalid --vers '${text}': a version, a list (1,2) or a range (1-3)`);
    const lo = asUint('version')(m[1]!);
    const hi = m[2] === undefined ? lo : asUint('version')(m[2]);
    if (hi < lo || hi - lo > 1000) throw new UsageError(`invalid --vers '${text}': a range from low to high, at most 1000 versions`);
    for (let v = lo; v <= hi; v++) if (!out.includes(v)) out.push(v);
  }
  return out;
}

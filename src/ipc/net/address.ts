// Socket addresses as users type them and as the program prints them.
// Numeric only: 127.0.0.1, ::1, [::1]; `localhost` is taken to mean
// 127.0.0.1 without asking any resolver. Names that would need DNS are
// refused with a clear message rather than looked up.
import { UsageError } from '../../errors.js';
import type { SockAddr } from '../../native/net/sockaddr.js';

export type { SockAddr };

export function parsePort(text: string, allowZero: boolean): number {
  const t = String(text).trim();
  if (!/^[0-9]+$/.test(t) || Number(t) > 65535 || (!allowZero && Number(t) === 0)) {
    throw new UsageError(`invalid port '${text}': a number from ${allowZero ? 0 : 1} to 65535`);
  }
  return Number(t);
}

/** Is `text` a numeric IPv4 or IPv6 address? Decided by inet_pton (loaded lazily). */
async function numericFamily(text: string): Promise<'inet' | 'inet6' | null> {
  const { addressBytes } = await import('../../native/net/sockaddr.js');
  if (addressBytes('inet', text)) return 'inet';
  if (addressBytes('inet6', text)) return 'inet6';
  return null;
}

export async function parseHost(text: string, port: number): Promise<SockAddr> {
  let host = text.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === 'localhost') host = '127.0.0.1';
  let scopeId = 0;
  const pct = host.indexOf('%');
  if (pct !== -1) {
    // fe80::1%2: only a numeric scope (interface index) is taken.
    const scope = host.slice(pct + 1);
    if (!/^[0-9]+$/.test(scope)) throw new UsageError(`invalid address '${text}': give the scope as an interface number (fe80::1%2)`);
    scopeId = Number(scope);
    host = host.slice(0, pct);
  }
  const family = await numericFamily(host);
  if (family === 'inet' && pct === -1) return { family, address: host, port };
  if (family === 'inet6') return { family, address: host, port, scopeId };
  throw new UsageError(`invalid address '${text}': numeric addresses only, like 127.0.0.1 or ::1`, 'ipcctl never resolves host names');
}

/** 127.0.0.1:8080, [::1]:8080, /tmp/s.sock, @abstract, or (unnamed). */
export function formatAddress(a: SockAddr): string {
  if (a.family === 'inet') return `${a.address}:${a.port}`;
  if (a.family === 'inet6') return `[${a.address}${a.scopeId ? '%' + a.scopeId : ''}]:${a.port}`;
  return a.path === '' ? '(unnamed)' : a.path;
}

/** The fields an address contributes to a JSON event. */
export function addressFields(a: SockAddr): { address: string; port: number } | { path: string | null } {
  if (a.family === 'unix') return { path: a.path === '' ? null : a.path };
  return { address: a.address, port: a.port };
}

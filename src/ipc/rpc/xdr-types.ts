// XDR type names as users write them (RFC 4506 with a shell-friendly
// spelling): int uint hyper uhyper bool enum float double string opaque void,
// `opaque[N]` fixed opaque, `string<N>`/`opaque<N>` with a maximum,
// `T[N]` a fixed array, `T[]` or `T<N>` a variable array. Parsing only; no
// native code, so `ipcctl xdr` never loads ffi-rs.
import { UsageError } from '../../errors.js';

export type Scalar = 'int' | 'uint' | 'hyper' | 'uhyper' | 'bool' | 'enum' | 'float' | 'double';

export type XdrType =
  | { kind: 'scalar'; name: Scalar }
  | { kind: 'void' }
  | { kind: 'string'; max?: number }
  | { kind: 'opaque'; fixed?: number; max?: number }
  | { kind: 'array'; of: XdrType; fixed?: number; max?: number };

const SCALARS: readonly string[] = ['int', 'uint', 'hyper', 'uhyper', 'bool', 'enum', 'float', 'double'];
export const TYPE_NAMES = [...SCALARS, 'string', 'opaque', 'void'];

/** Largest length a variable item may declare (XDR lengths are unsigned 32-bit). */
const MAX_LENGTH = 0xffffffff;

function bound(text: string, spec: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > MAX_LENGTH)
    throw new UsageError(`invalid XDR type '${spec}': the size in brackets must be a number up to ${MAX_LENGTH}`);
  return Number(text);
}

/** Parse a type name such as `int`, `opaque[3]`, `string<16>`, `uint[]`, `int[4]`. */
export function parseType(spec: string): XdrType {
  const s = spec.trim();
  // The last suffix applies last: `int[2][]` is a variable array of int[2].
  const m = /^(.*)(\[([0-9]*)\]|<([0-9]*)>)$/.exec(s);
  if (m) {
    const inner = m[1]!;
    const fixed = m[2]!.startsWith('[') && m[3] !== '' ? bound(m[3]!, spec) : undefined;
    const max = m[2]!.startsWith('<') && m[4] !== '' ? bound(m[4]!, spec) : undefined;
    if (inner === 'opaque') return fixed !== undefined ? { kind: 'opaque', fixed } : { kind: 'opaque', max };
    // string<N> is one string of at most N bytes; string[N] and string[] are arrays of strings.
    if (inner === 'string' && m[2]!.startsWith('<')) return { kind: 'string', max };
    const of = parseType(inner);
    if (of.kind === 'void') throw new UsageError(`invalid XDR type '${spec}': no arrays of void`);
    return { kind: 'array', of, fixed, max };
  }
  if (SCALARS.includes(s)) return { kind: 'scalar', name: s as Scalar };
  if (s === 'void') return { kind: 'void' };
  if (s === 'string') return { kind: 'string' };
  if (s === 'opaque') return { kind: 'opaque' };
  throw new UsageError(`unknown XDR type '${spec}': use ${TYPE_NAMES.join(', ')}, opaque[N], string<N>, T[N] or T[]`);
}

/** The canonical spelling of a type (what decode prints). */
export function typeName(t: XdrType): string {
  switch (t.kind) {
    case 'scalar':
      return t.name;
    case 'void':
      return 'void';
    case 'string':
      return t.max !== undefined ? `string<${t.max}>` : 'string';
    case 'opaque':
      return t.fixed !== undefined ? `opaque[${t.fixed}]` : t.max !== undefined ? `opaque<${t.max}>` : 'opaque';
    case 'array':
      return `${typeName(t.of)}${t.fixed !== undefined ? `[${t.fixed}]` : t.max !== undefined ? `<${t.max}>` : '[]'}`;
  }
}

/**
 * Split `TYPE:VALUE` at the first colon that is not inside the type name.
 * `void` alone needs no colon.
 */
export function splitTypedValue(arg: string): { type: XdrType; text: string } {
  const at = arg.indexOf(':');
  if (at === -1) {
    if (arg.trim() === 'void') return { type: { kind: 'void' }, text: '' };
    throw new UsageError(`invalid XDR value '${arg}': write TYPE:VALUE, like int:3 or string:hello`);
  }
  return { type: parseType(arg.slice(0, at)), text: arg.slice(at + 1) };
}

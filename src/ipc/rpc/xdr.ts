// The XDR codec (RFC 4506): values of the types in xdr-types.ts to bytes and
// back. Every item is a multiple of four bytes, big-endian; strings and
// opaques carry their length and are padded with zero bytes. Decoding is
// strict: a short input, a non-zero pad byte, a bool that is not 0 or 1, a
// length over its maximum, and bytes left over are refused with the byte
// offset where it went wrong. Pure TypeScript: no native code.
import { CliError, EXIT, UsageError } from '../../errors.js';
import { type XdrType, typeName } from './xdr-types.js';

export type XdrValue = number | bigint | boolean | string | Buffer | null | XdrValue[];

/** Input that is not valid XDR for the types asked: exit 1, with the offset. */
export class XdrDecodeError extends CliError {
  constructor(
    readonly offset: number,
    readonly detail: string,
    op?: string,
  ) {
    super(`${op ? `${op}: ` : ''}at byte ${offset}: ${detail}`, EXIT.FAILED);
  }

  /** The same failure, named for the operation the user ran. */
  for(op: string): XdrDecodeError {
    return new XdrDecodeError(this.offset, this.detail, op);
  }
}

// ---- parsing values written TYPE:VALUE ---------------------------------

const INTEGER = /^[-+]?(0x[0-9a-f]+|[0-9]+)$/i;

function integerOf(text: string, type: string, min: bigint, max: bigint): bigint {
  const t = text.trim();
  if (!INTEGER.test(t)) throw new UsageError(`invalid ${type} '${text}': expected an integer (decimal or 0x hex)`);
  const negative = t.startsWith('-');
  const digits = t.replace(/^[-+]/, '');
  let n = BigInt(digits);
  if (negative) n = -n;
  if (n < min || n > max) throw new UsageError(`invalid ${type} '${text}': out of range ${min} to ${max}`);
  return n;
}

const FLOAT_MAX = 3.4028234663852886e38;

function floatOf(text: string, type: 'float' | 'double'): number {
  const t = text.trim().toLowerCase();
  if (t === 'nan') return NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (!/^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)(e[-+]?[0-9]+)?$/.test(t)) throw new UsageError(`invalid ${type} '${text}': expected a number (or inf, -inf, nan)`);
  const n = Number(t);
  if (!Number.isFinite(n) || (type === 'float' && Math.abs(n) > FLOAT_MAX)) throw new UsageError(`invalid ${type} '${text}': out of range for ${type}`);
  return n;
}

function hexOf(text: string, type: string): Buffer {
  const t = text.trim().replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(t)) throw new UsageError(`invalid ${type} '${text}': expected hex bytes, two digits each (like 0a0b0c)`);
  return Buffer.from(t, 'hex');
}

function checkLength(n: number, t: XdrType, text: string): void {
  const name = typeName(t);
  if ((t.kind === 'opaque' || t.kind === 'array') && t.fixed !== undefined && n !== t.fixed)
    throw new UsageError(`invalid ${name} '${text}': needs exactly ${t.fixed} ${t.kind === 'opaque' ? 'bytes' : 'items'}, got ${n}`);
  if ((t.kind === 'string' || t.kind === 'opaque' || t.kind === 'array') && t.max !== undefined && n > t.max)
    throw new UsageError(`invalid ${name} '${text}': at most ${t.max}, got ${n}`);
}

/** The value that `text` denotes for type `t` (the part after `TYPE:`). */
export function parseValue(t: XdrType, text: string): XdrValue {
  switch (t.kind) {
    case 'void':
      if (text !== '') throw new UsageError(`invalid void '${text}': void has no value`);
      return null;
    case 'string':
      checkLength(Buffer.byteLength(text), t, text);
      return text;
    case 'opaque': {
      const b = hexOf(text, typeName(t));
      checkLength(b.length, t, text);
      return b;
    }
    case 'array': {
      const parts = text === '' ? [] : text.split(',');
      checkLength(parts.length, t, text);
      return parts.map((p) => parseValue(t.of, p));
    }
    case 'scalar':
      switch (t.name) {
        case 'int':
        case 'enum':
          return Number(integerOf(text, t.name, -(2n ** 31n), 2n ** 31n - 1n));
        case 'uint':
          return Number(integerOf(text, t.name, 0n, 2n ** 32n - 1n));
        case 'hyper':
          return integerOf(text, t.name, -(2n ** 63n), 2n ** 63n - 1n);
        case 'uhyper':
          return integerOf(text, t.name, 0n, 2n ** 64n - 1n);
        case 'bool': {
          const v = text.trim().toLowerCase();
          if (v === 'true' || v === '1') return true;
          if (v === 'false' || v === '0') return false;
          throw new UsageError(`invalid bool '${text}': true, false, 1 or 0`);
        }
        case 'float':
        case 'double':
          return floatOf(text, t.name);
      }
  }
}

// ---- encoding ------------------------------------------------------------

/** A growing output buffer of XDR items. */
export class XdrWriter {
  private buf: Buffer;
  length = 0;

  constructor(size = 256) {
    this.buf = Buffer.alloc(size);
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  uint(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }

  int(v: number): void {
    this.room(4);
    this.buf.writeInt32BE(v, this.length);
    this.length += 4;
  }

  /** Raw bytes, padded to a multiple of four with zeros. */
  fixed(b: Uint8Array): void {
    const padded = (b.length + 3) & ~3;
    this.room(padded);
    this.buf.set(b, this.length);
    this.buf.fill(0, this.length + b.length, this.length + padded);
    this.length += padded;
  }

  /** Length, then the bytes, padded. */
  variable(b: Uint8Array): void {
    this.uint(b.length);
    this.fixed(b);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

export function encodeValue(w: XdrWriter, t: XdrType, v: XdrValue): void {
  switch (t.kind) {
    case 'void':
      return;
    case 'string':
      w.variable(Buffer.from(v as string));
      return;
    case 'opaque':
      if (t.fixed !== undefined) w.fixed(v as Buffer);
      else w.variable(v as Buffer);
      return;
    case 'array': {
      const items = v as XdrValue[];
      if (t.fixed === undefined) w.uint(items.length);
      for (const item of items) encodeValue(w, t.of, item);
      return;
    }
    case 'scalar':
      switch (t.name) {
        case 'int':
        case 'enum':
          w.int(v as number);
          return;
        case 'uint':
          w.uint(v as number);
          return;
        case 'bool':
          w.uint(v ? 1 : 0);
          return;
        case 'hyper':
        case 'uhyper': {
          const n = BigInt.asUintN(64, v as bigint);
          w.uint(Number(n >> 32n));
          w.uint(Number(n & 0xffffffffn));
          return;
        }
        case 'float': {
          const b = Buffer.alloc(4);
          b.writeFloatBE(v as number);
          w.fixed(b);
          return;
        }
        case 'double': {
          const b = Buffer.alloc(8);
          b.writeDoubleBE(v as number);
          w.fixed(b);
          return;
        }
      }
  }
}

/** Encode a list of typed values back to back. */
export function encodeAll(items: Array<{ type: XdrType; value: XdrValue }>): Buffer {
  const w = new XdrWriter();
  for (const { type, value } of items) encodeValue(w, type, value);
  return w.bytes();
}

// ---- decoding ------------------------------------------------------------

/** Reads XDR items from a buffer, with the offset of every failure. */
export class XdrReader {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  get left(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number, what: string): void {
    if (this.left < n) throw new XdrDecodeError(this.offset, `truncated: ${what} needs ${n} bytes, ${this.left} left`);
  }

  uint(what = 'uint'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  int(what = 'int'): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** `n` bytes and their padding (which must be zero). */
  fixed(n: number, what: string): Buffer {
    const padded = n + ((4 - (n % 4)) % 4);
    this.need(padded, what);
    const b = this.buf.subarray(this.offset, this.offset + n);
    for (let i = this.offset + n; i < this.offset + padded; i++) {
      if (this.buf[i] !== 0) throw new XdrDecodeError(i, `${what}: padding byte is 0x${this.buf[i]!.toString(16).padStart(2, '0')}, not zero`);
    }
    this.offset += padded;
    return b;
  }

  /** A length-prefixed item, its length checked against `max`. */
  variable(what: string, max?: number): Buffer {
    const at = this.offset;
    const n = this.uint(`${what} length`);
    if (max !== undefined && n > max) throw new XdrDecodeError(at, `${what}: length ${n} is over its maximum ${max}`);
    return this.fixed(n, what);
  }

  /** Nothing may be left after the last item. */
  end(): void {
    if (this.left > 0) throw new XdrDecodeError(this.offset, `${this.left} byte${this.left === 1 ? '' : 's'} left over after the last item`);
  }
}

export function decodeValue(r: XdrReader, t: XdrType): XdrValue {
  const name = typeName(t);
  switch (t.kind) {
    case 'void':
      return null;
    case 'string':
      return r.variable(name, t.max).toString('utf8');
    case 'opaque':
      return Buffer.from(t.fixed !== undefined ? r.fixed(t.fixed, name) : r.variable(name, t.max));
    case 'array': {
      const at = r.offset;
      const n = t.fixed ?? r.uint(`${name} count`);
      if (t.max !== undefined && n > t.max) throw new XdrDecodeError(at, `${name}: ${n} items, over its maximum ${t.max}`);
      // Every item takes at least four bytes: a count beyond what is left is truncation, not a huge allocation.
      if (n * 4 > r.left) throw new XdrDecodeError(r.offset, `truncated: ${name} of ${n} items needs at least ${n * 4} bytes, ${r.left} left`);
      const items: XdrValue[] = [];
      for (let i = 0; i < n; i++) items.push(decodeValue(r, t.of));
      return items;
    }
    case 'scalar':
      switch (t.name) {
        case 'int':
        case 'enum':
          return r.int(t.name);
        case 'uint':
          return r.uint();
        case 'bool': {
          const at = r.offset;
          const v = r.uint('bool');
          if (v > 1) throw new XdrDecodeError(at, `bool is ${v}, not 0 or 1`);
          return v === 1;
        }
        case 'hyper':
        case 'uhyper': {
          const b = r.fixed(8, t.name);
          return t.name === 'hyper' ? b.readBigInt64BE(0) : b.readBigUInt64BE(0);
        }
        case 'float':
          return r.fixed(4, 'float').readFloatBE(0);
        case 'double':
          return r.fixed(8, 'double').readDoubleBE(0);
      }
  }
}

/**
 * Decode exactly `types` from `buf`: every byte used, none missing. With
 * `op`, a decode error says what was decoded ("OP: at byte N: ...").
 */
export function decodeAll(buf: Buffer, types: XdrType[], op?: string): XdrValue[] {
  const r = new XdrReader(buf);
  try {
    const out = types.map((t) => decodeValue(r, t));
    r.end();
    return out;
  } catch (e) {
    if (op !== undefined && e instanceof XdrDecodeError) throw e.for(op);
    throw e;
  }
}

// ---- showing values ------------------------------------------------------

function floatText(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/** The VALUE part of TYPE:VALUE, so that a decoded line encodes back to the same bytes. */
export function formatValue(t: XdrType, v: XdrValue): string {
  switch (t.kind) {
    case 'void':
      return '';
    case 'string':
      return v as string;
    case 'opaque':
      return (v as Buffer).toString('hex');
    case 'array':
      return (v as XdrValue[]).map((x) => formatValue(t.of, x)).join(',');
    case 'scalar':
      if (t.name === 'float' || t.name === 'double') return floatText(v as number);
      return String(v);
  }
}

/** A value as JSON: 64-bit integers as strings (exact), opaque as hex, floats beyond JSON as strings. */
export function jsonValue(t: XdrType, v: XdrValue): unknown {
  switch (t.kind) {
    case 'void':
      return null;
    case 'string':
      return v;
    case 'opaque':
      return (v as Buffer).toString('hex');
    case 'array':
      return (v as XdrValue[]).map((x) => jsonValue(t.of, x));
    case 'scalar':
      if (t.name === 'hyper' || t.name === 'uhyper') return String(v);
      if ((t.name === 'float' || t.name === 'double') && !Number.isFinite(v as number)) return floatText(v as number);
      return v;
  }
}

/** Arguments written `TYPE:VALUE ...`, parsed and encoded back to back. */
export async function encodeArguments(args: string[]): Promise<Buffer> {
  const { splitTypedValue } = await import('./xdr-types.js');
  return encodeAll(
    args.map((a) => {
      const { type, text } = splitTypedValue(a);
      return { type, value: parseValue(type, text) };
    }),
  );
}

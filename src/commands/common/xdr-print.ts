// Showing XDR values: `TYPE:VALUE` lines (the notation `xdr encode` takes, so
// a decoded line encodes back to the same bytes), one JSON array of
// {type, value}, or a hexdump -C of raw bytes. Shared by `xdr decode` and
// `rpc call --returns`.
import { formatValue, jsonValue, type XdrValue } from '../../ipc/rpc/xdr.js';
import { type XdrType, typeName } from '../../ipc/rpc/xdr-types.js';
import { HexDumper } from '../../output/hexdump.js';
import { writeStdout } from '../../output/sink.js';

export function valuesText(types: XdrType[], values: XdrValue[]): string {
  return types.map((t, i) => (t.kind === 'void' ? 'void\n' : `${typeName(t)}:${formatValue(t, values[i]!)}\n`)).join('');
}

export function valuesJson(types: XdrType[], values: XdrValue[]): Array<{ type: string; value: unknown }> {
  return types.map((t, i) => ({ type: typeName(t), value: jsonValue(t, values[i]!) }));
}

export function hexText(data: Buffer): string {
  if (data.length === 0) return '';
  const d = new HexDumper();
  return d.push(data, 0) + d.end(data.length);
}

export function printHex(data: Buffer): void {
  writeStdout(hexText(data));
}

// ipcctl xdr encode|decode: XDR (RFC 4506) from the shell. encode writes the
// bytes of TYPE:VALUE arguments (raw, or --hex as hexdump -C); decode reads
// XDR from stdin and prints the values of the TYPEs given. No native code:
// this command never loads ffi-rs.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { printJson } from '../output/json.js';
import { writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { printHex, valuesJson, valuesText } from './common/xdr-print.js';
import { readStdinFor } from './common/stdin.js';

async function encode(args: string[], opts: { hex?: boolean }) {
  const { encodeArguments } = await import('../ipc/rpc/xdr.js');
  const bytes = await encodeArguments(args);
  if (settings.json) printJson({ size: bytes.length, hex: bytes.toString('hex') });
  else if (opts.hex) printHex(bytes);
  else writeStdout(bytes);
}

/** Hex text on stdin (--hex): digits, spaces and newlines; a hexdump -C's offsets and ASCII column are not taken. */
function fromHexText(text: string): Buffer {
  const t = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(t)) throw new UsageError('xdr decode --hex: stdin must be hex digits, two per byte (spaces and newlines allowed)');
  return Buffer.from(t, 'hex');
}

async function decode(typeArgs: string[], opts: { hex?: boolean }) {
  const { parseType } = await import('../ipc/rpc/xdr-types.js');
  const { decodeAll } = await import('../ipc/rpc/xdr.js');
  const types = typeArgs.map(parseType);
  const raw = readStdinFor('xdr decode');
  const data = opts.hex ? fromHexText(raw.toString('latin1')) : raw;
  const values = decodeAll(data, types, 'xdr decode');
  if (settings.json) printJson(valuesJson(types, values));
  else writeStdout(valuesText(types, values));
}

export function register(program: Command): void {
  const xdr = program
    .command('xdr')
    .description('XDR (RFC 4506) from the shell: encode TYPE:VALUE arguments, decode stdin')
    .addHelpText('after', '\nExamples:\n  ipcctl xdr encode int:3 --hex\n  ipcctl xdr encode int:-1 string:hi | ipcctl xdr decode int string');

  xdr
    .command('encode')
    .description('write the XDR bytes of TYPE:VALUE... (raw on stdout)')
    .argument(
      '<value...>',
      'TYPE:VALUE: int:3 uint:7 hyper:-1 uhyper:18446744073709551615 bool:true enum:2 float:1.5 double:2.5 string:hi opaque:0a0b opaque[3]:010203 int[]:1,2,3 void',
    )
    .option('--hex', 'print as hexdump -C instead of raw bytes')
    .addHelpText('after', '\nExamples:\n  ipcctl xdr encode int:3 --hex\n  ipcctl xdr encode string:hello opaque[3]:010203 > args.xdr')
    .action(encode);

  xdr
    .command('decode')
    .description('read XDR from stdin and print the values of TYPE...')
    .argument('<type...>', 'the types, in order: int uint hyper uhyper bool enum float double string opaque opaque[N] string<N> T[N] T[] void')
    .option('--hex', 'stdin is hex text (like 00 00 00 03), not raw bytes')
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl xdr encode int:3 string:hi | ipcctl xdr decode int string\n  echo 00000003 | ipcctl --json xdr decode int --hex',
    )
    .action(decode);
}

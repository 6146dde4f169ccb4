// ipcctl xdr encode|decode: bytes checked against RFC 4506 written out by
// hand and against Python 3.11's xdrlib where it is there, round trips of every
// type at its edges, decoding refusing bad input with the byte offset, and
// no ffi-rs for any of it. The rpcgen-built peer that reads and writes these
// bytes is in rpc-interop.test.ts.
import { describe, expect, it } from 'vitest';
import { badInputCases, ipcctl, PYTHON, run } from './helpers/run.js';

function hex(args: string[]): string {
  const r = ipcctl(['xdr', 'encode', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.out.toString('hex');
}

describe('xdr encode: the bytes of RFC 4506', () => {
  // Each case: the value, and its bytes from the RFC's section for the type.
  const cases: Array<[string, string]> = [
    ['int:3', '00000003'], // 4.1: big-endian two's complement
    ['int:-2147483648', '80000000'],
    ['int:2147483647', '7fffffff'],
    ['int:-1', 'ffffffff'],
    ['uint:4294967295', 'ffffffff'], // 4.2
    ['uint:0x10', '00000010'],
    ['enum:2', '00000002'], // 4.3: as an int
    ['bool:true', '00000001'], // 4.4
    ['bool:false', '00000000'],
    ['hyper:-2', 'fffffffffffffffe'], // 4.5: eight bytes, most significant first
    ['hyper:-9223372036854775808', '8000000000000000'],
    ['uhyper:18446744073709551615', 'ffffffffffffffff'],
    ['uhyper:4294967296', '0000000100000000'],
    ['float:1', '3f800000'], // 4.6: IEEE single
    ['float:-2.5', 'c0200000'],
    ['double:1', '3ff0000000000000'], // 4.7: IEEE double
    ['double:inf', '7ff0000000000000'],
    ['opaque[3]:010203', '01020300'], // 4.9: fixed opaque, padded to 4 with zero
    ['opaque[4]:01020304', '01020304'],
    ['opaque:0a0b0c', '000000030a0b0c00'], // 4.10: length, bytes, padding
    ['opaque:', '00000000'],
    ['string:', '00000000'], // 4.11
    ['string:hello', '0000000568656c6c6f000000'],
    ['string:abcd', '0000000461626364'],
    ['int[3]:1,2,3', '000000010000000200000003'], // 4.12: fixed array, no count
    ['int[]:1,2,3', '00000003000000010000000200000003'], // 4.13: count first
    ['int[]:', '00000000'],
    ['string[]:a,bc', '00000002000000016100000000000002626300 00'.replace(/ /g, '')],
    ['void', ''], // 4.16
  ];
  for (const [value, bytes] of cases) {
    it(`${value} is ${bytes || '(nothing)'}`, () => expect(hex([value])).toBe(bytes));
  }

  it('values follow one another with nothing between', () => {
    expect(hex(['int:1', 'string:xyz', 'bool:true'])).toBe('00000001' + '0000000378797a00' + '00000001');
  });

  it('--hex prints hexdump -C of the bytes, as the course slide shows int:3', () => {
    const r = ipcctl(['xdr', 'encode', 'int:3', '--hex']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^00000000 {2}00 00 00 03 {4}/);
    // What util-linux hexdump -C prints for these 16 bytes (written out: hexdump
    // is in bsdextrautils, which a minimal Debian lacks).
    expect(ipcctl(['xdr', 'encode', 'int:3', 'string:hello', '--hex']).stdout).toBe(
      '00000000  00 00 00 03 00 00 00 05  68 65 6c 6c 6f 00 00 00  |........hello...|\n00000010\n',
    );
  });

  it('--json gives the size and the hex', () => {
    const r = ipcctl(['--json', 'xdr', 'encode', 'int:3', 'opaque[3]:010203']);
    expect(JSON.parse(r.stdout)).toEqual({ size: 8, hex: '0000000301020300' });
  });
});

describe('xdr decode', () => {
  it('round-trips every type at its edges', () => {
    const values = [
      'int:-2147483648',
      'int:2147483647',
      'uint:4294967295',
      'hyper:-9223372036854775808',
      'hyper:9223372036854775807',
      'uhyper:18446744073709551615',
      'uhyper:0',
      'bool:true',
      'bool:false',
      'enum:-7',
      'float:1.5',
      'double:-1e+300',
      'double:nan',
      'float:-inf',
      'string:',
      'string:h\u00e9llo, world',
      'string<8>:12345678',
      'opaque:',
      'opaque:0a0b0c',
      'opaque[3]:ffeedd',
      'opaque<4>:01',
      'int[]:',
      'int[]:-1,0,1',
      'uhyper[2]:1,18446744073709551615',
      'bool[]:true,false',
      'string[]:a,,bcd',
      'void',
    ];
    const types = values.map((v) => (v === 'void' ? 'void' : v.slice(0, v.indexOf(':'))));
    const enc = ipcctl(['xdr', 'encode', ...values]);
    expect(enc.code, enc.stderr).toBe(0);
    const dec = ipcctl(['xdr', 'decode', ...types], { input: enc.out });
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.stdout).toBe(values.map((v) => v + '\n').join(''));
  });

  it('decodes bytes written out by hand (RFC 4506), and JSON keeps 64-bit values exact', () => {
    const bytes = Buffer.from('fffffffe' + 'ffffffffffffffff' + '00000002' + '6869' + '0000' + '00000001' + '3fc00000', 'hex');
    const r = ipcctl(['--json', 'xdr', 'decode', 'int', 'uhyper', 'string', 'bool', 'float'], { input: bytes });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { type: 'int', value: -2 },
      { type: 'uhyper', value: '18446744073709551615' },
      { type: 'string', value: 'hi' },
      { type: 'bool', value: true },
      { type: 'float', value: 1.5 },
    ]);
  });

  it('--hex refuses text that is not hex', () => {
    const r = ipcctl(['xdr', 'decode', 'int', '--hex'], { input: 'zz zz' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ipcctl: xdr decode --hex: stdin must be hex digits/);
  });

  it('--hex reads hex text', () => {
    const r = ipcctl(['xdr', 'decode', 'int', 'opaque[3]', '--hex'], { input: '00 00 00 03\n01 02 03 00\n' });
    expect(r.stdout).toBe('int:3\nopaque[3]:010203\n');
  });

  const refuse = (types: string[], input: Buffer, message: RegExp) => {
    const r = ipcctl(['xdr', 'decode', ...types], { input });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  };

  it('refuses truncated input with the offset', () => {
    refuse(['int', 'int'], Buffer.from('0000000100', 'hex'), /^ipcctl: xdr decode: at byte 4: truncated: int needs 4 bytes, 1 left/);
    refuse(['string'], Buffer.from('0000000568656c', 'hex'), /at byte 4: truncated: string needs 8 bytes, 3 left/);
    refuse(['opaque[3]'], Buffer.from('010203', 'hex'), /at byte 0: truncated/);
    refuse(['int[]'], Buffer.from('7fffffff00000001', 'hex'), /at byte 4: truncated: int\[\] of 2147483647 items/);
  });

  it('refuses over-long input with the offset of the first byte too many', () => {
    refuse(['int'], Buffer.from('0000000100000002', 'hex'), /^ipcctl: xdr decode: at byte 4: 4 bytes left over/);
  });

  it('refuses non-zero padding, a bool that is not 0 or 1, and a length over the maximum', () => {
    refuse(['string'], Buffer.from('00000001610000ff', 'hex'), /at byte 7: string: padding byte is 0xff/);
    refuse(['bool'], Buffer.from('00000002', 'hex'), /at byte 0: bool is 2/);
    refuse(['string<2>'], Buffer.from('00000003616263ff', 'hex'), /at byte 0: string<2>: length 3 is over its maximum 2/);
  });

  it('refuses an endless stdin (/dev/zero) in one line instead of reading for ever', () => {
    const r = run('sh', ['-c', `"$0" xdr decode int < /dev/zero`, `${process.cwd()}/bin/ipcctl`], { timeout: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('ipcctl: xdr decode: stdin holds more than 64 MiB; refused');
  });

  it('refuses a stdin that is a directory in one line', () => {
    const r = run('sh', ['-c', `"$0" xdr decode int < /`, `${process.cwd()}/bin/ipcctl`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ipcctl: xdr decode stdin: EISDIR/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

// Python 3.11's xdrlib (removed in 3.13): where the Python here has it, it packs
// and unpacks the same values as a second, independent implementation.
const hasXdrlib = run(PYTHON, ['-W', 'ignore', '-c', 'import xdrlib']).code === 0;

describe.skipIf(!hasXdrlib)("against Python's xdrlib", () => {
  const values = [
    'int:-2147483648',
    'uint:4294967295',
    'hyper:-9223372036854775808',
    'uhyper:18446744073709551615',
    'bool:true',
    'enum:5',
    'float:1.5',
    'double:-2.25',
    'string:',
    'string:h\u00e9llo',
    'opaque:010203',
    'opaque[3]:616263',
    'int[]:1,2,3',
    'int[2]:7,8',
  ];
  const packer = `
import sys, xdrlib
p = xdrlib.Packer()
p.pack_int(-2147483648); p.pack_uint(4294967295); p.pack_hyper(-2**63); p.pack_uhyper(2**64 - 1)
p.pack_bool(True); p.pack_enum(5); p.pack_float(1.5); p.pack_double(-2.25)
p.pack_string(b''); p.pack_string('h\u00e9llo'.encode()); p.pack_opaque(b'\\x01\\x02\\x03'); p.pack_fopaque(3, b'abc')
p.pack_array([1, 2, 3], p.pack_int); p.pack_farray(2, [7, 8], p.pack_int)
sys.stdout.buffer.write(p.get_buffer())
`;
  const unpacker = `
import sys, xdrlib
u = xdrlib.Unpacker(sys.stdin.buffer.read())
out = [u.unpack_int(), u.unpack_uint(), u.unpack_hyper(), u.unpack_uhyper(), u.unpack_bool(), u.unpack_enum(), u.unpack_float(), u.unpack_double(),
       u.unpack_string().decode(), u.unpack_string().decode(), u.unpack_opaque().hex(), u.unpack_fopaque(3).hex(), u.unpack_array(u.unpack_int), u.unpack_farray(2, u.unpack_int)]
u.done()
print(repr(out))
`;

  it('ipcctl encodes the bytes xdrlib packs', () => {
    const py = run(PYTHON, ['-W', 'ignore', '-c', packer]);
    expect(py.code, py.stderr).toBe(0);
    const mine = ipcctl(['xdr', 'encode', ...values]);
    expect(mine.out.toString('hex')).toBe(py.out.toString('hex'));
  });

  it('ipcctl decodes what xdrlib packs, and xdrlib unpacks what ipcctl encodes', () => {
    const py = run(PYTHON, ['-W', 'ignore', '-c', packer]);
    const types = values.map((v) => v.slice(0, v.indexOf(':')));
    const dec = ipcctl(['xdr', 'decode', ...types], { input: py.out });
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.stdout).toBe(values.map((v) => v + '\n').join(''));
    const back = run(PYTHON, ['-W', 'ignore', '-c', unpacker], { input: ipcctl(['xdr', 'encode', ...values]).out });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout.trim()).toBe(
      "[-2147483648, 4294967295, -9223372036854775808, 18446744073709551615, True, 5, 1.5, -2.25, '', 'h\u00e9llo', '010203', '616263', [1, 2, 3], [7, 8]]",
    );
  });
});

describe('xdr bad input', () => {
  badInputCases([
    ['an unknown type', ['xdr', 'encode', 'long:3'], 2, /unknown XDR type 'long'/],
    ['a value without a type', ['xdr', 'encode', '3'], 2, /write TYPE:VALUE/],
    ['int out of range', ['xdr', 'encode', 'int:2147483648'], 2, /invalid int '2147483648': out of range/],
    ['uint negative', ['xdr', 'encode', 'uint:-1'], 2, /invalid uint '-1': out of range/],
    ['uhyper beyond 2^64-1', ['xdr', 'encode', 'uhyper:18446744073709551616'], 2, /invalid uhyper/],
    ['int not a number', ['xdr', 'encode', 'int:abc'], 2, /invalid int 'abc'/],
    ['int empty', ['xdr', 'encode', 'int:'], 2, /invalid int ''/],
    ['float too large', ['xdr', 'encode', 'float:1e39'], 2, /out of range for float/],
    ['bool not a bool', ['xdr', 'encode', 'bool:yes'], 2, /invalid bool 'yes'/],
    ['odd hex', ['xdr', 'encode', 'opaque:abc'], 2, /hex bytes/],
    ['fixed opaque of the wrong size', ['xdr', 'encode', 'opaque[4]:0102'], 2, /needs exactly 4 bytes, got 2/],
    ['string over its maximum', ['xdr', 'encode', 'string<2>:abc'], 2, /at most 2, got 3/],
    ['a huge array size', ['xdr', 'encode', 'int[99999999999]:1'], 2, /the size in brackets/],
    ['void with a value', ['xdr', 'encode', 'void:1'], 2, /void has no value/],
    ['decode of an unknown type', ['xdr', 'decode', 'struct'], 2, /unknown XDR type 'struct'/],
    ['encode with no value', ['xdr', 'encode'], 2, /missing required argument/],
  ]);
});

describe('xdr does not load ffi-rs', () => {
  it('encode and decode run without native code', () => {
    // LD_DEBUG=files: the dynamic loader names every library it loads (ffi-rs is one).
    const r = ipcctl(['xdr', 'encode', 'int:3'], { env: { LD_DEBUG: 'files' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/file=libc\.so/);
    expect(r.stderr).not.toMatch(/ffi-rs/);
    const d = ipcctl(['xdr', 'decode', 'int'], { input: Buffer.from('00000003', 'hex'), env: { LD_DEBUG: 'files' } });
    expect(d.stdout).toBe('int:3\n');
    expect(d.stderr).not.toMatch(/ffi-rs/);
  });
});

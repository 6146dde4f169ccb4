// JSON output: one document, or JSON Lines for streams. Numbers stay numbers;
// keys and modes are strings in the forms the contract fixes.
import { writeStdout } from './sink.js';

export function printJson(value: unknown): void {
  writeStdout(JSON.stringify(value, null, 2) + '\n');
}

export function jsonLine(value: unknown): string {
  return JSON.stringify(value) + '\n';
}

export function formatKey(key: number): string {
  return '0x' + (key >>> 0).toString(16).padStart(8, '0');
}

export function formatMode(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/** A received payload as JSON: text when valid UTF-8, base64 otherwise. */
export function payloadFields(data: Buffer): { text: string } | { base64: string } {
  const text = data.toString('utf8');
  // Round-tripping tells valid UTF-8 from bytes that decoding replaced.
  if (Buffer.byteLength(text) === data.length && Buffer.from(text).equals(data)) return { text };
  return { base64: data.toString('base64') };
}

// How `msgq recv` writes a message it took or copied: its bytes as they are
// (one message), each followed by a newline or NUL (--count/--all), or one
// JSON line each (--json).
import type { Message } from '../../ipc/sysv/msgq.js';
import { jsonLine, payloadFields } from '../../output/json.js';

/** One JSON line: type, size and the payload (text, or base64). */
export const messageJson = (m: Message): Buffer => Buffer.from(jsonLine({ type: m.type, size: m.data.length, ...payloadFields(m.data) }));

/** The encoding of `recv --peek`, which writes every copy itself. */
export function peekEncoding(json: boolean, several: boolean, nul: boolean): (m: Message) => Buffer {
  if (json) return messageJson;
  if (!several) return (m) => m.data;
  const sep = Buffer.from(nul ? '\0' : '\n');
  return (m) => Buffer.concat([m.data, sep]);
}

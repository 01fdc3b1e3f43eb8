import { wireText } from '../protocol/wireText.js';
import { sizeText } from './classifyFailure.js';
import { HttpFailure } from './HttpFailure.js';

/**
 * A message's JSON for a POST body: its own text when it has one (verbatim, never serialized
 * again). What cannot go out fails here, before any byte is sent, as a local failure: the
 * desktop's request gets an error and nothing is retried (JSON.stringify overflows its stack on a
 * 100k-deep message; a message over the size limit is not sent).
 */
export function wireBody(message: unknown, maxBytes: number): string {
  let text: string;
  try {
    text = wireText(message);
  } catch (err) {
    throw new HttpFailure({ local: 'serialize', message: err instanceof Error ? err.message : String(err) });
  }
  // Characters first (free): UTF-8 takes at most 3 bytes for each.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text);
    if (bytes > maxBytes) throw new HttpFailure({ local: 'too-large', message: `it is ${sizeText(bytes)}, over the ${sizeText(maxBytes)} limit for one message` });
  }
  return text;
}

/**
 * The exact JSON text a message arrived as, kept beside the parsed object so it can leave the
 * bridge as it came: byte for byte what the sender wrote (the bridge forwards verbatim), and no
 * JSON.stringify of a 5 MB result on the way. Only texts without line breaks are kept, since a
 * stdio message must be one line. Nothing may mutate a message that has a text here; the bridge
 * builds new objects for everything it changes.
 */
const texts = new WeakMap<object, string>();

export function parseKeepingText(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && text.indexOf('\n') === -1 && text.indexOf('\r') === -1) {
    texts.set(value, text);
  }
  return value;
}

/** The message's JSON: the text it arrived as when known, else a fresh serialization. */
export function wireText(message: unknown): string {
  return (message !== null && typeof message === 'object' && texts.get(message)) || JSON.stringify(message);
}

/** The text a message arrived as, if it was kept. */
export function textOf(message: object): string | undefined {
  return texts.get(message);
}

/**
 * Makes `text` the wire text of the new object `message` (one built by the bridge, e.g. an answer
 * whose id was spliced back in: see protocol/idText.ts). `text` must be one line of JSON.
 */
export function withText<T extends object>(message: T, text: string): T {
  texts.set(message, text);
  return message;
}

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

/**
 * Gives a message built by the bridge the text it is to leave as (an edit of the text it came
 * from: see modern/jsonText.ts, or an answer whose id was spliced back in: router/IdMap.ts), so it is not serialized again. The text must be the message's
 * exact JSON, on one line.
 */
export function keepText<T extends object>(message: T, text: string): T {
  if (text.indexOf('\n') === -1 && text.indexOf('\r') === -1) texts.set(message, text);
  return message;
}

/** The text a message arrived as, when it was kept (undefined for messages the bridge built). */
export function keptText(message: unknown): string | undefined {
  return message !== null && typeof message === 'object' ? texts.get(message) : undefined;
}

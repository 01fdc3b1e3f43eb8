/**
 * Reading and editing a JSON object's text while leaving every other byte as it was: the bridge
 * finds the token of an id a parse would change (router/IdMap.ts, protocol/idText.ts), adds
 * `_meta` to a legacy desktop's request and takes modern-only fields out of a result for it,
 * without re-serializing the rest (the arguments and schemas the peers wrote, number formatting, escapes,
 * big integers and key order included: JSON.parse and JSON.stringify change all of those). A
 * small scanner over well-formed JSON (the text was parsed already); any surprise throws, and the
 * callers fall back to serializing the object. Pure, and linear in the text.
 */

export interface Member {
  key: string;
  /** Where the member's key starts, and where its value starts and ends. */
  start: number;
  valueStart: number;
  valueEnd: number;
}

export class JsonTextError extends Error {
  constructor(at: number) {
    super(`unexpected JSON text at ${at}`);
    this.name = 'JsonTextError';
  }
}

function skipWs(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else return i;
  }
}

/** The index after the string that starts at `i` (a `"`). */
function skipString(t: string, i: number): number {
  let at = i + 1;
  for (;;) {
    const q = t.indexOf('"', at);
    if (q === -1) throw new JsonTextError(i);
    let slashes = 0;
    for (let k = q - 1; t.charCodeAt(k) === 0x5c; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    at = q + 1;
  }
}

/** The index after the value that starts at `i` (whitespace skipped first). */
export function skipValue(t: string, i: number): number {
  i = skipWs(t, i);
  const c = t.charCodeAt(i);
  if (c === 0x22) return skipString(t, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let k = i; k < t.length; k++) {
      const ch = t.charCodeAt(k);
      if (ch === 0x22) k = skipString(t, k) - 1;
      else if (ch === 0x7b || ch === 0x5b) depth++;
      else if (ch === 0x7d || ch === 0x5d) {
        depth--;
        if (depth === 0) return k + 1;
      }
    }
    throw new JsonTextError(i);
  }
  let k = i;
  while (k < t.length) {
    const ch = t.charCodeAt(k);
    if (ch === 0x2c || ch === 0x7d || ch === 0x5d || ch === 0x20 || ch === 0x09 || ch === 0x0a || ch === 0x0d) break;
    k++;
  }
  if (k === i) throw new JsonTextError(i);
  return k;
}

/** The members of the object whose `{` is at `open`, in text order. */
export function membersOf(t: string, open: number): Member[] {
  if (t.charCodeAt(open) !== 0x7b) throw new JsonTextError(open);
  const out: Member[] = [];
  let i = skipWs(t, open + 1);
  if (t.charCodeAt(i) === 0x7d) return out;
  for (;;) {
    if (t.charCodeAt(i) !== 0x22) throw new JsonTextError(i);
    const keyEnd = skipString(t, i);
    const key = JSON.parse(t.slice(i, keyEnd)) as string;
    const colon = skipWs(t, keyEnd);
    if (t.charCodeAt(colon) !== 0x3a) throw new JsonTextError(colon);
    const valueStart = skipWs(t, colon + 1);
    const valueEnd = skipValue(t, valueStart);
    out.push({ key, start: i, valueStart, valueEnd });
    i = skipWs(t, valueEnd);
    const c = t.charCodeAt(i);
    if (c === 0x7d) return out;
    if (c !== 0x2c) throw new JsonTextError(i);
    i = skipWs(t, i + 1);
  }
}

/** The spans of the elements of the array whose `[` is at `open`, in order. */
export function elementsOf(t: string, open: number): Array<{ start: number; end: number }> {
  if (t.charCodeAt(open) !== 0x5b) throw new JsonTextError(open);
  const out: Array<{ start: number; end: number }> = [];
  let i = skipWs(t, open + 1);
  if (t.charCodeAt(i) === 0x5d) return out;
  for (;;) {
    const end = skipValue(t, i);
    out.push({ start: i, end });
    i = skipWs(t, end);
    const c = t.charCodeAt(i);
    if (c === 0x5d) return out;
    if (c !== 0x2c) throw new JsonTextError(i);
    i = skipWs(t, i + 1);
  }
}

/** The text of `t` without the elements at `drop` of the array at `open`. */
export function removeElements(t: string, drop: ReadonlySet<number>, open: number): string {
  const elements = elementsOf(t, open);
  if (!elements.some((_, n) => drop.has(n))) return t;
  const close = skipWs(t, elements[elements.length - 1]!.end);
  const kept = elements.filter((_, n) => !drop.has(n)).map((e) => t.slice(e.start, e.end));
  return `${t.slice(0, open)}[${kept.join(',')}]${t.slice(close + 1)}`;
}

/** The member `key` of the object at `open`: the last one, as JSON.parse takes the last of duplicate keys. */
function lastMember(members: Member[], key: string): Member | undefined {
  for (let n = members.length - 1; n >= 0; n--) if (members[n]!.key === key) return members[n];
  return undefined;
}

/** The span of the value of member `key` of the object at `open` (`t.slice(start, end)`), if it has one. */
export function memberSpan(t: string, key: string, open = skipWs(t, 0)): { start: number; end: number } | undefined {
  const found = lastMember(membersOf(t, open), key);
  return found && { start: found.valueStart, end: found.valueEnd };
}

/** The text of `t` with the top-level member `key` set to `valueText` (replaced in place, or added last). */
export function setMember(t: string, key: string, valueText: string, open = skipWs(t, 0)): string {
  const members = membersOf(t, open);
  const found = lastMember(members, key);
  if (found) return t.slice(0, found.valueStart) + valueText + t.slice(found.valueEnd);
  const close = members.length ? t.indexOf('}', members[members.length - 1]!.valueEnd) : t.indexOf('}', open);
  const sep = members.length ? ',' : '';
  return `${t.slice(0, close)}${sep}${JSON.stringify(key)}:${valueText}${t.slice(close)}`;
}

/** The text of `t` without the members named in `keys` of the object at `open` (the first one by default). */
export function removeMembers(t: string, keys: ReadonlySet<string>, open = skipWs(t, 0)): string {
  const members = membersOf(t, open);
  if (!members.some((m) => keys.has(m.key))) return t;
  const close = skipWs(t, members[members.length - 1]!.valueEnd);
  const kept = members.filter((m) => !keys.has(m.key)).map((m) => t.slice(m.start, m.valueEnd));
  return `${t.slice(0, open)}{${kept.join(',')}}${t.slice(close + 1)}`;
}

/** Where the value of the top-level member `key` starts, if the object has one. */
export function memberValueAt(t: string, key: string, open = skipWs(t, 0)): number | undefined {
  return lastMember(membersOf(t, open), key)?.valueStart;
}

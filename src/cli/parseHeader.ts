import { expandVariables } from './expandVariables.js';
import { UsageError } from './UsageError.js';

/** RFC 9110 token characters: what a header name may contain. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers whose whole value is a credential. */
const SENSITIVE = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|apikey)$|token|secret|password|session/i;

export interface ParsedHeader {
  name: string;
  value: string;
  /** Values that must never be logged. */
  secrets: string[];
}

/**
 * Parses one `--header "Name: value"` (also `Name:value`, the no-space form Windows users need),
 * expanding `${VAR}` in the value. Rejects what would corrupt a request: CR/LF anywhere (header
 * injection), no colon, or a name that is not an HTTP token. `where` names it in messages (a
 * header file's line is named by its number, so its value is not echoed).
 */
export function parseHeader(raw: string, env: NodeJS.ProcessEnv, where = `--header "${raw}"`): ParsedHeader {
  if (/[\r\n]/.test(raw)) throw new UsageError(`--header contains a line break, which is not allowed in HTTP headers`);
  const colon = raw.indexOf(':');
  if (colon === -1) throw new UsageError(`${where} has no colon; write it as "Name: value"`);
  const name = raw.slice(0, colon).trim();
  if (!TOKEN.test(name)) throw new UsageError(`${where} has an invalid header name "${name}"`);
  const { value, used } = expandVariables(raw.slice(colon + 1).trim(), env, `--header "${name}"`);
  if (/[\r\n\0]/.test(value)) throw new UsageError(`--header "${name}": the expanded value contains a line break or NUL`);
  const secrets = [...used];
  // A scheme with no credential after it ("Bearer ") is no secret, and masking the word
  // "Bearer" in every log line would hide more than it protects.
  if (SENSITIVE.test(name) && value.trim() && !/^(bearer|basic|token|bot)$/i.test(value.trim())) {
    secrets.push(value);
    // "Bearer abc…": the credential alone, too, in case it is shown without its scheme.
    const parts = value.split(/\s+/);
    if (parts.length > 1) secrets.push(parts.slice(1).join(' '));
  }
  return { name, value, secrets };
}

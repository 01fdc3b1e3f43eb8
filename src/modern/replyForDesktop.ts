import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import { keepText, keptText } from '../protocol/wireText.js';
import { memberValueAt, removeMembers, setMember } from './jsonText.js';

/**
 * Result fields only the modern era has (basic/index "ResultType"; changelog: SEP-2549 cache
 * hints). A modern desktop gets them as the server sent them; a legacy one has no use for them
 * and gets the result as a legacy server would have sent it.
 */
const MODERN_ONLY = new Set(['resultType', 'ttlMs', 'cacheScope']);

/** The result kinds the bridge understands on a modern server's answer to `method` (for a legacy desktop). */
export function knownResultTypes(method: string, tasks: boolean): ReadonlySet<string> {
  if (method === 'tools/call') return tasks ? CALL_WITH_TASKS : MRTR;
  if (method === 'prompts/get' || method === 'resources/read') return MRTR;
  return COMPLETE;
}
const COMPLETE = new Set(['complete']);
const MRTR = new Set(['complete', 'input_required']);
const CALL_WITH_TASKS = new Set(['complete', 'input_required', 'task']);

/**
 * Why a result cannot be handed on, if it cannot: a `resultType` the client does not recognize
 * MUST be treated as invalid, and an absent one means `complete` (basic/index, "ResultType").
 */
export function resultTypeProblem(result: unknown, known: ReadonlySet<string>): string | undefined {
  if (!result || typeof result !== 'object') return undefined;
  const type = (result as { resultType?: unknown }).resultType;
  if (type === undefined || (typeof type === 'string' && known.has(type))) return undefined;
  return `the server answered with a result of type ${JSON.stringify(type)}, which this request cannot have`;
}

/**
 * A modern server's reply, for the desktop's request `id`: as it came for a modern desktop (the
 * same object, so the same text, when the id is the desktop's already), and without the
 * modern-only result fields for a legacy one. Edits keep the rest of the text as the server
 * wrote it (schemas, results), and `result` may replace the result (a tools/list without the
 * tools the desktop must not see).
 */
export function replyForDesktop(reply: JSONRPCMessage, id: RequestId, desktop: 'legacy' | 'modern', result?: unknown): JSONRPCMessage {
  const r = reply as { id?: unknown; result?: unknown };
  const replaced = result !== undefined && result !== r.result;
  const strip = desktop === 'legacy' && hasModernFields(replaced ? result : r.result);
  if (r.id === id && !strip && !replaced) return reply;
  let value = replaced ? result : r.result;
  if (strip) value = withoutModernFields(value as Record<string, unknown>);
  const next = { ...(reply as object), id, ...(value !== undefined ? { result: value } : {}) } as JSONRPCMessage;
  const text = keptText(reply);
  if (text === undefined || replaced) return next;
  try {
    let edited = text;
    const at = strip ? memberValueAt(edited, 'result') : undefined;
    if (at !== undefined) edited = removeMembers(edited, MODERN_ONLY, at);
    if (r.id !== id) edited = setMember(edited, 'id', JSON.stringify(id));
    return keepText(next, edited);
  } catch {
    return next;
  }
}

function hasModernFields(result: unknown): boolean {
  if (!result || typeof result !== 'object') return false;
  for (const key of MODERN_ONLY) if (key in result) return true;
  return false;
}

function withoutModernFields(result: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...result };
  for (const key of MODERN_ONLY) delete copy[key];
  return copy;
}

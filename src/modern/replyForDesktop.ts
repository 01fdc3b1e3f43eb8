import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import { keepText, keptText } from '../protocol/wireText.js';
import { memberValueAt, removeElements, removeMembers, setMember } from '../protocol/jsonText.js';

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
 * modern-only result fields for a legacy one; `dropTools` leaves tools out of a tools/list result
 * (by position). Edits keep the rest of the text as the server wrote it (schemas, results).
 */
export function replyForDesktop(reply: JSONRPCMessage, id: RequestId, desktop: 'legacy' | 'modern', dropTools: ReadonlySet<number> = NO_DROP): JSONRPCMessage {
  const r = reply as { id?: unknown; result?: unknown };
  const strip = desktop === 'legacy' && hasModernFields(r.result);
  const drop = dropTools.size > 0 && Array.isArray((r.result as { tools?: unknown } | undefined)?.tools);
  if (r.id === id && !strip && !drop) return reply;
  let result = r.result;
  if (strip) result = withoutModernFields(result as Record<string, unknown>);
  if (drop) result = { ...(result as object), tools: ((result as { tools: unknown[] }).tools).filter((_, n) => !dropTools.has(n)) };
  const next = { ...(reply as object), id, ...(result !== undefined ? { result } : {}) } as JSONRPCMessage;
  const text = keptText(reply);
  if (text === undefined) return next;
  try {
    let edited = text;
    if (drop) {
      const at = memberValueAt(edited, 'result');
      const tools = at === undefined ? undefined : memberValueAt(edited, 'tools', at);
      if (tools === undefined) return next;
      edited = removeElements(edited, dropTools, tools);
    }
    const at = strip ? memberValueAt(edited, 'result') : undefined;
    if (at !== undefined) edited = removeMembers(edited, MODERN_ONLY, at);
    if (r.id !== id) edited = setMember(edited, 'id', JSON.stringify(id));
    return keepText(next, edited);
  } catch {
    return next;
  }
}

const NO_DROP: ReadonlySet<number> = new Set();

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

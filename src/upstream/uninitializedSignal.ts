import { ErrorCodes } from '../protocol/errorCodes.js';
import type { JSONRPCRequest } from '../protocol/jsonrpc.js';

// JSON-RPC "Invalid params" (ErrorCodes.InvalidParams). python-sdk answers every request on a
// session it has not seen initialized with it ("Invalid request parameters", data ""; the words
// "before initialization" reach only its log), and so does a session it restarted under the same
// id. It is also the ordinary answer to a request with bad params, and python-sdk's answer to a
// method it does not know. So the code alone says "maybe"; what the request carried, or a
// question to the session, settles it. Never the message text: real servers do not send a
// telling one.

/**
 * What a JSON-RPC error answering `request` says about its session:
 * - `uninitialized`: the session was never initialized (or lost its state): the request never ran.
 * - `ask`: it may be either; ask the session with a request that cannot have bad params.
 * - `answer`: an ordinary answer for the desktop.
 *
 * `replayedBefore`: the request was already sent again for this reason once. A second -32602 on a
 * freshly initialized session is the server's real answer, whatever it means: never a loop.
 */
export function judgeInvalidParams(request: Pick<JSONRPCRequest, 'method' | 'params'>, error: unknown, replayedBefore: boolean): 'uninitialized' | 'ask' | 'answer' {
  if ((error as { code?: unknown } | undefined)?.code !== ErrorCodes.InvalidParams || replayedBefore) return 'answer';
  // A request with nothing to get wrong cannot have invalid params: ping, tools/list {} …
  return carriesNoParams(request) ? 'uninitialized' : 'ask';
}

/** No params, or none but `_meta` (a cursor could be invalid, so it counts as a param). */
export function carriesNoParams(request: Pick<JSONRPCRequest, 'params'>): boolean {
  const params = request.params as Record<string, unknown> | undefined | null;
  if (params === undefined || params === null) return true;
  if (typeof params !== 'object' || Array.isArray(params)) return false;
  return Object.keys(params).every((k) => k === '_meta');
}

/**
 * The question to ask a session whose -32602 may mean "never initialized": a standard list
 * request without params, which an initialized session answers with a result (or -32601 where it
 * has no such list) and an uninitialized python-sdk session with -32602. One of a kind the server
 * did not announce is answered at once with little to send; with all announced, the prompts.
 */
export function initializedProbe(capabilities: Record<string, unknown> | undefined): string {
  for (const kind of ['prompts', 'resources', 'tools']) if (capabilities?.[kind] === undefined) return `${kind}/list`;
  return 'prompts/list';
}

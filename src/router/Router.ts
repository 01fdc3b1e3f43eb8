import type { Logger } from '../log/Logger.js';
import type { Tracer } from '../log/Tracer.js';
import { ErrorCodes } from '../protocol/errorCodes.js';
import {
  errorReply,
  idLabel,
  isNotification,
  isReply,
  isRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
} from '../protocol/jsonrpc.js';
import { UpstreamError } from '../transport/UpstreamError.js';
import type { Upstream } from '../upstream/Upstream.js';
import { withId } from '../protocol/idText.js';
import { IdMap, type DesktopId } from './IdMap.js';
import type { ToolFilter } from './ToolFilter.js';

/** Where the router writes messages for the desktop app; returns the bytes written. */
export interface DesktopSink {
  send(message: unknown): number;
}

export interface RouterOptions {
  desktop: DesktopSink;
  upstream: Upstream;
  log: Logger;
  tracer: Tracer;
  /** Every request from the desktop gets an answer within this, or a timeout error. */
  requestTimeoutMs: number;
  /** When set, the request `mcp-tether/debug` is answered locally with this (tests, diagnostics). */
  debugInfo?: () => unknown;
  /** Tools hidden from the desktop (`--ignore-tool`, `--only-tool`). */
  toolFilter?: ToolFilter;
}

interface Outbound {
  method: string;
  startedAt: number;
  timer: NodeJS.Timeout;
  /** Set when the request went up under an id of its own (see IdMap): the desktop's id. */
  desktop?: DesktopId;
}

/**
 * The one place that knows about request ids. It forwards messages both ways verbatim, tracks the
 * desktop's requests and their deadlines (every one is answered: by the server, or by an error
 * from here), and the server's requests until the desktop answers them. It never waits on the
 * network: sends to the server are fire-and-forget with their failure routed back as an answer.
 */
export class Router {
  readonly #opts: RouterOptions;
  /** The desktop's pending requests, by the id they went upstream with. */
  readonly #outbound = new Map<RequestId, Outbound>();
  readonly #inbound = new Map<RequestId, string>();
  readonly #ids = new IdMap();
  #closed = false;

  constructor(opts: RouterOptions) {
    this.#opts = opts;
    opts.upstream.onmessage = (message) => this.fromServer(message);
    opts.upstream.onrequestfailed = (id, error) => this.#fail(id, error);
  }

  /** Requests from the desktop still waiting for an answer. */
  get pendingCount(): number {
    return this.#outbound.size;
  }

  fromDesktop(message: JSONRPCMessage, bytes: number): void {
    const { tracer, upstream } = this.#opts;
    if (this.#closed) return;
    if (isRequest(message)) {
      const desktop = this.#ids.unusual(message);
      if (message.method === 'mcp-tether/debug' && this.#opts.debugInfo) {
        // resultType: a modern-era desktop rejects a result without it; a legacy one ignores it.
        const reply = { jsonrpc: '2.0', id: message.id, result: { resultType: 'complete', ...(this.#opts.debugInfo() as object), router: { pending: this.#outbound.size, serverRequests: this.#inbound.size, mappedIds: this.#ids.size } } };
        this.#opts.desktop.send(desktop ? withId(reply, desktop.id, desktop.raw) : reply);
        return;
      }
      if (desktop ? this.#ids.pending(desktop) : this.#outbound.has(message.id)) {
        tracer.message('up', message, bytes, undefined, 'refused: duplicate id');
        this.#answer(errorReply(message.id, ErrorCodes.InvalidRequest, `Invalid Request: id ${desktop?.raw ?? idLabel(message.id)} is already in use by a pending request`), desktop);
        return;
      }
      const hidden = this.#hiddenTool(message);
      if (hidden !== undefined) {
        // Answered here, as the server answers an unknown tool: a hidden tool must not run.
        tracer.message('up', message, bytes, undefined, 'refused: hidden tool');
        this.#answer(errorReply(message.id, ErrorCodes.InvalidParams, `Unknown tool: ${hidden} (hidden by mcp-tether --ignore-tool / --only-tool)`), desktop);
        return;
      }
      const request = desktop ? this.#ids.bind(message, desktop) : message;
      this.#track(request, desktop);
      tracer.message('up', message, bytes, undefined, desktop ? `sent as #${idLabel(request.id)}` : undefined);
      upstream.send(request).catch((err: unknown) => this.#fail(request.id, err));
      return;
    }
    if (isNotification(message)) {
      let notification = message;
      if (message.method === 'notifications/cancelled') {
        notification = this.#ids.cancellation(message);
        this.#forget(notification.params?.requestId as RequestId | undefined);
      }
      tracer.message('up', message, bytes);
      upstream.send(notification).catch((err: unknown) => this.#opts.log.debug(`could not forward ${message.method}: ${errText(err)}`));
      return;
    }
    if (isReply(message)) {
      const method = this.#inbound.get(message.id);
      this.#inbound.delete(message.id);
      tracer.message('up', message, bytes, undefined, method ? `answers ${method}` : undefined);
      upstream.send(message).catch((err: unknown) => this.#opts.log.warn(`could not deliver the answer to server request #${idLabel(message.id)}: ${errText(err)}`));
    }
  }

  fromServer(message: JSONRPCMessage): void {
    if (this.#closed) return;
    const { tracer, desktop } = this.#opts;
    if (isReply(message)) {
      const pending = this.#outbound.get(message.id);
      if (!pending) {
        // Cancelled or timed out already: the desktop must not get a second answer.
        tracer.message('down', message, 0, undefined, 'dropped: no pending request with this id');
        return;
      }
      this.#settle(message.id, pending);
      const filtered = pending.method === 'tools/list' ? this.#withoutHiddenTools(message) : message;
      const shown = pending.desktop ? withId(filtered, pending.desktop.id, pending.desktop.raw) : filtered;
      const bytes = desktop.send(shown);
      tracer.message('down', shown, bytes, performance.now() - pending.startedAt);
      return;
    }
    // Only the trace names the method a desktop answer belongs to: skip the bookkeeping otherwise.
    if (isRequest(message) && tracer.enabled) {
      this.#inbound.set(message.id, message.method);
      if (this.#inbound.size > 1000) this.#inbound.delete(this.#inbound.keys().next().value as RequestId);
    }
    const bytes = desktop.send(message);
    tracer.message('down', message, bytes);
  }

  /**
   * Answers every pending request (the bridge is going away) and clears every timer. A request the
   * server already has may have run: "outcome unknown", not "shutting down", which it would read as
   * never done.
   */
  close(reason: string): void {
    if (this.#closed) return;
    for (const [id, pending] of this.#outbound) {
      clearTimeout(pending.timer);
      const reply = this.#opts.upstream.reached(id)
        ? errorReply(id, ErrorCodes.OutcomeUnknown, `mcp-tether: ${reason} while the server was handling ${pending.method}; its outcome is unknown: it may or may not have taken effect`, { kind: 'fatal', reason: 'outcome-unknown' })
        : errorReply(id, ErrorCodes.BridgeUnavailable, `mcp-tether: ${reason}`, { kind: 'fatal', reason: 'closed' });
      this.#answer(reply, pending.desktop);
    }
    this.#outbound.clear();
    this.#inbound.clear();
    this.#closed = true;
  }

  /** The name of the hidden tool a `tools/call` asks for, if it does. */
  #hiddenTool(request: JSONRPCRequest): string | undefined {
    const filter = this.#opts.toolFilter;
    if (request.method !== 'tools/call' || !filter?.active) return undefined;
    const name = (request.params as { name?: unknown } | undefined)?.name;
    return typeof name === 'string' && !filter.allows(name) ? name : undefined;
  }

  /**
   * A `tools/list` answer (any page) without the hidden tools. A new message only when something
   * was removed: otherwise the server's exact text goes out, as for every other message.
   */
  #withoutHiddenTools(reply: JSONRPCMessage): JSONRPCMessage {
    const filtered = this.#opts.toolFilter?.filterListResult((reply as { result?: unknown }).result);
    return filtered ? ({ ...reply, result: filtered } as JSONRPCMessage) : reply;
  }

  #track(request: JSONRPCRequest, desktop: DesktopId | undefined): void {
    const timer = setTimeout(() => this.#onDeadline(request.id), this.#opts.requestTimeoutMs);
    this.#outbound.set(request.id, { method: request.method, startedAt: performance.now(), timer, desktop });
  }

  /** A pending request is done with (answered, failed, cancelled, timed out). */
  #settle(id: RequestId, pending: Outbound): void {
    clearTimeout(pending.timer);
    this.#outbound.delete(id);
    if (pending.desktop) this.#ids.release(pending.desktop);
  }

  #forget(id: RequestId | undefined): void {
    if (id === undefined) return;
    const pending = this.#outbound.get(id);
    if (pending) this.#settle(id, pending);
  }

  #onDeadline(id: RequestId): void {
    const pending = this.#outbound.get(id);
    if (!pending) return;
    this.#settle(id, pending);
    const seconds = this.#opts.requestTimeoutMs / 1000;
    this.#opts.log.warn(`${pending.method} #${shownId(id, pending)} got no answer within ${seconds} s (--request-timeout); answered with a timeout error`);
    this.#answer(errorReply(id, ErrorCodes.RequestTimeout, `mcp-tether: no answer from the server within ${seconds} s (--request-timeout)`, { method: pending.method }), pending.desktop);
    // The spec forbids cancelling initialize; anything else is told to stop working on it.
    if (pending.method !== 'initialize') {
      const cancel: JSONRPCMessage = {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: id, reason: `mcp-tether: request timed out after ${seconds} s` },
      };
      this.#opts.tracer.message('up', cancel, 0, undefined, 'sent by mcp-tether');
      this.#opts.upstream.send(cancel).catch(() => undefined);
    }
  }

  #fail(id: RequestId, err: unknown): void {
    const pending = this.#outbound.get(id);
    if (!pending) return;
    this.#settle(id, pending);
    if (err instanceof UpstreamError) {
      const data = { kind: err.kind, reason: err.reason, ...(err.status !== undefined ? { status: err.status } : {}) };
      const code =
        err.reason === 'outcome-unknown'
          ? ErrorCodes.OutcomeUnknown
          : err.reason === 'closed' || err.reason === 'queue-full'
            ? ErrorCodes.BridgeUnavailable
            : ErrorCodes.UpstreamUnavailable;
      this.#answer(errorReply(id, code, `mcp-tether: ${err.detail}`, data), pending.desktop);
      if (pending.method !== 'initialize') this.#opts.log.warn(`${pending.method} #${shownId(id, pending)} failed: ${err.detail}`);
      return;
    }
    this.#opts.log.error(`${pending.method} #${shownId(id, pending)} failed: ${errText(err)}`);
    this.#answer(errorReply(id, ErrorCodes.UpstreamUnavailable, `mcp-tether: ${errText(err)}`), pending.desktop);
  }

  /** An error of the bridge's own for the desktop; with the desktop's exact id when it went up under another. */
  #answer(reply: ReturnType<typeof errorReply>, desktopId?: DesktopId): void {
    const { desktop, tracer, log } = this.#opts;
    // Error texts may quote what the server said: they pass the same redaction as the logs.
    reply.error.message = log.redactor.redact(reply.error.message);
    const shown = desktopId ? withId(reply, desktopId.id, desktopId.raw) : reply;
    const bytes = desktop.send(shown);
    tracer.message('down', shown as JSONRPCMessage, bytes, undefined, 'answered by mcp-tether');
  }
}

/** The id a log line names a request by: the desktop's own. */
function shownId(id: RequestId, pending: Outbound): string {
  return pending.desktop?.raw ?? idLabel(id);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

import { describe, expect, it } from 'vitest';
import { idSpan, numberIdRoundTrips, spanOfMember, splice } from '../../src/protocol/idText.js';
import { IdMap } from '../../src/router/IdMap.js';
import { parseKeepingText, wireText } from '../../src/protocol/wireText.js';
import type { JSONRPCNotification, JSONRPCRequest } from '../../src/protocol/jsonrpc.js';

const token = (text: string) => {
  const span = idSpan(text);
  return span ? text.slice(span.start, span.end) : undefined;
};

describe('idSpan: the top-level id of a message text', () => {
  it('finds it first, last, and between members', () => {
    expect(token('{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}')).toBe('12345678901234567890');
    expect(token('{"method":"ping","jsonrpc":"2.0","id":1e400}')).toBe('1e400');
    expect(token('{ "method" : "ping" , "id" : "a\\"b" , "jsonrpc" : "2.0" }')).toBe('"a\\"b"');
  });

  it('is not fooled by nested objects and strings with escaped quotes before id', () => {
    const text = '{"params":{"id":1,"s":"\\"id\\":2,\\\\","a":[{"id":3},"}"]},"k\\"":"{\\"id\\":4}","id":-5.5e3}';
    expect(token(text)).toBe('-5.5e3');
    // A key spelled with an escape is still "id".
    expect(token('{"\\u0069d":7,"method":"x"}')).toBe('7');
  });

  it('takes the last of duplicate ids, as JSON.parse does', () => {
    expect(token('{"id":1,"method":"x","id":2}')).toBe('2');
  });

  it('finds the id after a large params (one linear scan)', () => {
    const big = 'x"\\'.repeat(1_000_000);
    const text = `{"method":"tools/call","params":{"arguments":{"s":${JSON.stringify(big)},"n":[1,{"id":9}]}},"jsonrpc":"2.0","id":12345678901234567890}`;
    expect(token(text)).toBe('12345678901234567890');
  });

  it('has no id for a message without one, or text that is not an object', () => {
    expect(token('{"jsonrpc":"2.0","method":"notifications/initialized","params":{"id":1}}')).toBeUndefined();
    expect(token('[{"id":1}]')).toBeUndefined();
  });

  it('spanOfMember looks inside a nested object', () => {
    const text = '{"method":"notifications/cancelled","params":{"reason":"r","requestId":1e400}}';
    const params = spanOfMember(text, 'params')!;
    const span = spanOfMember(text, 'requestId', params.start)!;
    expect(text.slice(span.start, span.end)).toBe('1e400');
    expect(splice(text, span, '"x"')).toBe('{"method":"notifications/cancelled","params":{"reason":"r","requestId":"x"}}');
  });
});

describe('numberIdRoundTrips', () => {
  const check = (text: string) => numberIdRoundTrips((JSON.parse(text) as { id: number }).id, text);

  it('plain integers round-trip, on the fast paths and after a scan', () => {
    expect(check('{"jsonrpc":"2.0","id":42,"method":"ping"}')).toBe(true);
    expect(check('{"method":"ping","jsonrpc":"2.0","id":-7}')).toBe(true);
    expect(check('{"id":0, "method":"ping","jsonrpc":"2.0"}')).toBe(true);
    expect(check('{"jsonrpc":"2.0","id":9007199254740991,"method":"ping"}')).toBe(true);
  });

  it('numbers a parse changes do not', () => {
    expect(check('{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}')).toBe(false);
    expect(check('{"method":"ping","jsonrpc":"2.0","id":1e400}')).toBe(false);
    expect(check('{"jsonrpc":"2.0","id":1.0,"method":"ping"}')).toBe(false);
    expect(check('{"jsonrpc":"2.0","id":-0,"method":"ping"}')).toBe(false);
    expect(check('{"id":9007199254740993,"jsonrpc":"2.0","method":"ping"}')).toBe(false);
  });

  it('a key ending in "id" inside a string is not the id', () => {
    // The last member is "x\",\"id" (a key with escaped quotes), whose value is 5; the id is 12345678901234567890.
    const text = '{"jsonrpc":"2.0","method":"m","id":12345678901234567890,"x\\",\\"id":5}';
    expect(check(text)).toBe(false);
  });
});

describe('IdMap', () => {
  const request = (line: string) => parseKeepingText(line) as JSONRPCRequest;

  it('leaves ordinary ids alone', () => {
    const map = new IdMap();
    expect(map.unusual(request('{"jsonrpc":"2.0","id":1,"method":"ping"}'))).toBeUndefined();
    expect(map.unusual(request('{"jsonrpc":"2.0","id":"abc","method":"ping"}'))).toBeUndefined();
    expect(map.unusual(request('{"jsonrpc":"2.0","id":"tether:1","method":"ping"}'))).toBeUndefined();
  });

  it('maps reserved and lossy ids to ids of its own, splicing only the id into the text', () => {
    const map = new IdMap();
    const a = request('{"jsonrpc":"2.0","id":"mcp-tether:1","method":"tools/call","params":{"n":12345678901234567890}}');
    const b = request('{"method":"ping","jsonrpc":"2.0","id":12345678901234567890}');
    const c = request('{"method":"ping","jsonrpc":"2.0","id":12345678901234567891}');
    const da = map.unusual(a)!;
    const db = map.unusual(b)!;
    const dc = map.unusual(c)!;
    expect([da.raw, db.raw, dc.raw]).toEqual(['"mcp-tether:1"', '12345678901234567890', '12345678901234567891']);
    const ua = map.bind(a, da);
    const ub = map.bind(b, db);
    expect(map.pending(dc)).toBe(false); // same parsed value as b, another request
    map.bind(c, dc);
    expect(ua.id).not.toBe(ub.id);
    expect(String(ua.id)).toMatch(/^mcp-tether\/desktop\/\d+$/);
    // params keep their exact text (a re-serialization would have lost digits)
    expect(wireText(ua)).toBe(`{"jsonrpc":"2.0","id":"${String(ua.id)}","method":"tools/call","params":{"n":12345678901234567890}}`);
    expect(map.pending(db)).toBe(true);
    map.release(db);
    expect(map.pending(db)).toBe(false);
    expect(map.size).toBe(2);
  });

  it('translates a cancellation of a mapped request, and only that', () => {
    const map = new IdMap();
    const r = request('{"jsonrpc":"2.0","id":1e400,"method":"ping"}');
    const up = map.bind(r, map.unusual(r)!);
    const cancel = parseKeepingText('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1e400}}') as JSONRPCNotification;
    expect(map.cancellation(cancel).params?.requestId).toBe(up.id);
    const other = parseKeepingText('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}') as JSONRPCNotification;
    expect(map.cancellation(other)).toBe(other);
  });
});

// The relay of test/helpers/cutRelay.ts cuts connections as it says it does: what each side hears.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCutRelay, type CutKind } from '../helpers/cutRelay.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** What happened to one end of a connection. */
function watch(socket: net.Socket) {
  const seen = { data: '', error: '', closed: false };
  socket.on('data', (c: Buffer) => (seen.data += c.toString()));
  socket.on('error', (e: NodeJS.ErrnoException) => (seen.error = e.code ?? e.message));
  socket.on('close', () => (seen.closed = true));
  return seen;
}

async function pair(kind: CutKind) {
  const accepted: net.Socket[] = [];
  const target = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => target.close(() => r())));
  const relay = await startCutRelay((target.address() as net.AddressInfo).port);
  cleanup.push(() => relay.close());
  const client = net.connect(relay.port, '127.0.0.1');
  cleanup.push(() => void client.destroy());
  await expect.poll(() => accepted.length).toBe(1);
  const server = accepted[0]!;
  cleanup.push(() => void server.destroy());
  const c = watch(client);
  const s = watch(server);
  client.write('hello');
  await expect.poll(() => s.data).toBe('hello');
  expect(relay.cut(kind, { serverNoticesAfterMs: 200 })).toBe(1);
  return { client, server, c, s, relay };
}

describe('cut relay', () => {
  it('rst: both sides are reset at once', async () => {
    const { c, s } = await pair('rst');
    await expect.poll(() => c.error && s.error).toBe('ECONNRESET');
  });

  it('client: the client is reset; the server hears nothing until it notices', async () => {
    const { c, s, server } = await pair('client');
    await expect.poll(() => c.error).toBe('ECONNRESET');
    server.write('into the void');
    expect(s.closed).toBe(false);
    await expect.poll(() => s.error, { timeout: 2000 }).toBe('ECONNRESET');
  });

  it('server: the server is reset; the client hears nothing until it writes, then RST', async () => {
    const { c, s, client, server } = await pair('server');
    await expect.poll(() => s.error).toBe('ECONNRESET');
    await new Promise((r) => setTimeout(r, 300));
    expect([c.closed, c.error, c.data]).toEqual([false, '', '']);
    client.write('anyone?');
    await expect.poll(() => c.error).toBe('ECONNRESET');
    expect(server.destroyed).toBe(true);
  });

  it('blackhole: nothing gets through either way; the server notices later, the client never', async () => {
    const { c, s, client, server, relay } = await pair('blackhole');
    client.write('lost');
    server.write('lost too');
    await new Promise((r) => setTimeout(r, 100));
    expect([c.data, s.data]).toEqual(['', 'hello']);
    await expect.poll(() => s.error, { timeout: 2000 }).toBe('ECONNRESET');
    expect([c.closed, c.error]).toEqual([false, '']);
    // A new connection goes through, as a new flow through the firewall would.
    const again = net.connect(relay.port, '127.0.0.1');
    cleanup.push(() => void again.destroy());
    await new Promise<void>((r) => again.once('connect', () => r()));
    expect(relay.liveConnections()).toBe(1);
  });
});

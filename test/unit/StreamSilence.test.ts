import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeepAliveCadence, SilenceMonitor } from '../../src/transport/StreamSilence.js';

describe('KeepAliveCadence', () => {
  it('knows nothing until two intervals were seen, then allows three of the longest, at least 1 s', () => {
    const c = new KeepAliveCadence();
    expect(c.silenceBoundMs).toBeUndefined();
    c.observe(15_000);
    expect(c.silenceBoundMs).toBeUndefined();
    c.observe(14_900);
    expect(c.silenceBoundMs).toBe(45_000);
    const fast = new KeepAliveCadence();
    fast.observe(100);
    fast.observe(120);
    expect(fast.silenceBoundMs).toBe(1000);
  });

  it('one late comment (or a burst read after a stall) moves nothing; a changed cadence is followed', () => {
    const c = new KeepAliveCadence();
    for (const gap of [1000, 1000, 9000, 1, 1, 1000]) c.observe(gap);
    expect(c.silenceBoundMs).toBe(3000);
    for (let i = 0; i < 8; i++) c.observe(2000);
    expect(c.silenceBoundMs).toBe(6000);
  });
});

describe('SilenceMonitor', () => {
  afterEach(() => void vi.useRealTimers());

  it('calls a stream dead once silent past the bound, and not while bytes keep coming', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const cadence = new KeepAliveCadence();
    const silent: number[] = [];
    const monitor = new SilenceMonitor(cadence);
    const watch = monitor.watch((ms) => void silent.push(ms));
    // A second stream that goes on talking is not touched.
    const other = monitor.watch(() => void silent.push(-1));
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(200);
      watch.byte();
      watch.comment();
      other.byte();
    }
    // Bytes (a slow answer, messages) keep it alive though no comment comes.
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(500);
      watch.byte();
      other.byte();
    }
    expect(silent).toEqual([]);
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(400);
      other.byte();
    }
    expect(silent).toHaveLength(1);
    expect(silent[0]).toBeGreaterThanOrEqual(1000);
    // Once is enough.
    await vi.advanceTimersByTimeAsync(300);
    other.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(silent).toHaveLength(1);
  });

  it('does nothing once stopped, nor for a server that sends no comments', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const silent: number[] = [];
    const quiet = new SilenceMonitor(new KeepAliveCadence()).watch((ms) => void silent.push(ms));
    await vi.advanceTimersByTimeAsync(60_000);
    const cadence = new KeepAliveCadence();
    cadence.observe(100);
    cadence.observe(100);
    const monitor = new SilenceMonitor(cadence);
    monitor.watch((ms) => void silent.push(ms));
    monitor.close();
    await vi.advanceTimersByTimeAsync(60_000);
    quiet.stop();
    expect(silent).toEqual([]);
  });
});

describe('SseParser comments', () => {
  it('are reported, in any line framing, and never as events', async () => {
    const { SseParser } = await import('../../src/transport/SseParser.js');
    const events: string[] = [];
    let comments = 0;
    const parser = new SseParser((e) => void events.push(e.data), undefined, { onComment: () => void (comments += 1) });
    parser.feed(Buffer.from(': ping - 2026-12-01 10:00:00.000000\r\n\r\n: keepalive\n\nevent: message\ndata: {}\n\n:\r'));
    parser.feed(Buffer.from('\n'));
    expect([comments, events]).toEqual([3, ['{}']]);
  });
});

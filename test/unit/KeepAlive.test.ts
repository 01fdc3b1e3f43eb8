import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeepAlive } from '../../src/upstream/KeepAlive.js';

describe('KeepAlive', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('fires only after a full interval of silence, and again after each', async () => {
    let pings = 0;
    const k = new KeepAlive(1000, async () => void (pings += 1));
    k.start();
    await vi.advanceTimersByTimeAsync(600);
    k.touch();
    await vi.advanceTimersByTimeAsync(600);
    expect(pings).toBe(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(pings).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(pings).toBe(2);
    k.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(pings).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an interval of 0 never pings and sets no timer', async () => {
    const k = new KeepAlive(0, async () => expect.fail('pinged'));
    k.start();
    expect(vi.getTimerCount()).toBe(0);
  });
});

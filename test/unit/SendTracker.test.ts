import { describe, expect, it } from 'vitest';
import { SendTracker } from '../../src/transport/SendTracker.js';

describe('SendTracker', () => {
  it('drain waits for sends under way, but no longer than asked', async () => {
    const t = new SendTracker();
    let finish!: () => void;
    const send = t.track(new Promise<void>((r) => (finish = r)));
    let drained = false;
    const d = t.drain(5000).then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).toBe(false);
    finish();
    await send;
    await d;
    expect(drained).toBe(true);

    void t.track(new Promise(() => undefined)); // never settles
    const started = performance.now();
    await t.drain(50);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('passes rejections through', async () => {
    const t = new SendTracker();
    await expect(t.track(Promise.reject(new Error('x')))).rejects.toThrow('x');
    await t.drain(10);
  });
});

import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/log/Logger.js';
import { UpstreamError } from '../../src/transport/UpstreamError.js';
import { RecoveryLoop } from '../../src/upstream/RecoveryLoop.js';

const refused = () => new UpstreamError({ kind: 'network', reason: 'refused', mayHaveReachedServer: false, detail: 'refused' });

function loop(signal = new AbortController().signal) {
  const failures: number[] = [];
  const l = new RecoveryLoop({ signal, log: new Logger({ sink: () => undefined }), onFailedAttempt: (_e, n) => void failures.push(n) });
  return { l, failures };
}

describe('RecoveryLoop', () => {
  it('retries until an attempt succeeds and reports each failure', async () => {
    const { l, failures } = loop();
    let n = 0;
    const attempts = await l.run(async () => {
      if (++n < 3) throw refused();
    }, true);
    expect(attempts).toBe(3);
    expect(failures).toEqual([1, 2]);
  });

  it('keeps going through errors that are not classified (p-retry would stop on a TypeError)', async () => {
    const { l } = loop();
    let n = 0;
    expect(await l.run(async () => {
      if (++n < 2) throw new TypeError('a bug');
    }, true)).toBe(2);
  });

  it('a kick cuts the backoff pause short', async () => {
    const starts: number[] = [];
    let l: RecoveryLoop;
    // After the 5th failure p-retry would pause at least 100 ms × 1.6⁴ ≈ 655 ms; a kick 20 ms in ends it.
    l = new RecoveryLoop({
      signal: new AbortController().signal,
      log: new Logger({ sink: () => undefined }),
      onFailedAttempt: (_e, n) => {
        if (n === 5) setTimeout(() => l.kick(), 20);
      },
    });
    await l.run(async () => {
      starts.push(performance.now());
      if (starts.length < 6) throw refused();
    }, true);
    expect(starts).toHaveLength(6);
    expect(starts[5]! - starts[4]!).toBeLessThan(500);
    // The unkicked pauses before it did grow: the 4th one alone is at least 100 ms × 1.6³ ≈ 410 ms.
    expect(starts[4]! - starts[3]!).toBeGreaterThanOrEqual(400);
  });

  it('stops when the signal aborts', async () => {
    const stop = new AbortController();
    const { l } = loop(stop.signal);
    const done = l.run(async () => {
      throw refused();
    }, true);
    setTimeout(() => stop.abort(), 200);
    expect(await done).toBeUndefined();
  });

  it('waits longer and longer before recoveries that follow a session which served nothing', async () => {
    const { l } = loop();
    await l.run(async () => undefined, true);
    const t1 = performance.now();
    await l.run(async () => undefined, false);
    const first = performance.now() - t1;
    const t2 = performance.now();
    await l.run(async () => undefined, false);
    const second = performance.now() - t2;
    expect(first).toBeGreaterThanOrEqual(190);
    expect(second).toBeGreaterThanOrEqual(390);
    // A session that served something resets it.
    const t3 = performance.now();
    await l.run(async () => undefined, true);
    expect(performance.now() - t3).toBeLessThan(150);
  });
});

import { describe, expect, it } from 'vitest';
import { reopenDelay } from '../../src/transport/reopenDelay.js';

describe('reopenDelay', () => {
  it('starts at a floor and grows, whatever retry the server advised below it', () => {
    expect([0, 1, 2, 3].map((a) => reopenDelay(a, undefined))).toEqual([200, 300, 450, 675]);
    expect([0, 1, 2, 3].map((a) => reopenDelay(a, 0))).toEqual([200, 300, 450, 675]);
  });

  it("honours a longer server retry, and never waits longer than the cap", () => {
    expect(reopenDelay(0, 5000)).toBe(5000);
    expect(reopenDelay(0, 3_600_000)).toBe(15_000);
    expect(reopenDelay(40, undefined)).toBe(15_000);
  });
});

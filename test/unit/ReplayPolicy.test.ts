import { describe, expect, it } from 'vitest';
import { ReplayPolicy } from '../../src/upstream/ReplayPolicy.js';

const call = (name: string) => ({ method: 'tools/call', params: { name, arguments: {} } });

describe('ReplayPolicy', () => {
  const policy = new ReplayPolicy();
  policy.learnTools({
    tools: [
      { name: 'read', annotations: { readOnlyHint: true } },
      { name: 'put', annotations: { readOnlyHint: false, idempotentHint: true } },
      { name: 'delete', annotations: { destructiveHint: true } },
      { name: 'plain' },
    ],
  });

  it('always replays what never reached the server, even a mutating tool', () => {
    expect(policy.decide(call('delete'), false)).toBe('replay');
    expect(policy.decide({ method: 'sampling/anything' }, false)).toBe('replay');
  });

  it.each(['ping', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read', 'prompts/get', 'completion/complete', 'vendor/thing/list'])(
    'replays %s whose answer was lost',
    (method) => expect(policy.decide({ method }, true)).toBe('replay'),
  );

  it('replays tools annotated read-only or idempotent', () => {
    expect(policy.decide(call('read'), true)).toBe('replay');
    expect(policy.decide(call('put'), true)).toBe('replay');
  });

  it('never repeats a tool that may mutate, or one it knows nothing about', () => {
    expect(policy.decide(call('delete'), true)).toBe('fail');
    expect(policy.decide(call('plain'), true)).toBe('fail');
    expect(policy.decide(call('unknown'), true)).toBe('fail');
    expect(policy.decide({ method: 'tools/call' }, true)).toBe('fail');
    expect(policy.decide({ method: 'vendor/mutate' }, true)).toBe('fail');
  });

  it('follows annotation changes in later tools/list answers', () => {
    const p = new ReplayPolicy();
    p.learnTools({ tools: [{ name: 't', annotations: { readOnlyHint: true } }] });
    p.learnTools({ tools: [{ name: 't', annotations: { readOnlyHint: false } }] });
    expect(p.decide(call('t'), true)).toBe('fail');
  });

  it('ignores malformed lists', () => {
    const p = new ReplayPolicy();
    p.learnTools(undefined);
    p.learnTools({ tools: 'nope' });
    p.learnTools({ tools: [null, { name: 3 }] });
    expect(p.decide(call('x'), true)).toBe('fail');
  });
});

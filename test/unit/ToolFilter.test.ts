import { describe, expect, it } from 'vitest';
import { ToolFilter } from '../../src/router/ToolFilter.js';

describe('ToolFilter', () => {
  it('hides nothing and touches no result without patterns', () => {
    const f = new ToolFilter();
    expect(f.active).toBe(false);
    expect(f.allows('anything')).toBe(true);
    expect(f.filterListResult({ tools: [{ name: 'a' }] })).toBeUndefined();
  });

  it('matches globs as mcp-remote does: * is any run, the rest literal, case-insensitive', () => {
    const f = new ToolFilter({ ignore: ['delete*', 'a.b', '*_admin'] });
    expect(f.allows('deleteRepo')).toBe(false);
    expect(f.allows('DELETE')).toBe(false);
    expect(f.allows('a.b')).toBe(false);
    expect(f.allows('axb')).toBe(true); // the dot is literal
    expect(f.allows('user_admin')).toBe(false);
    expect(f.allows('admin_user')).toBe(true);
    expect(f.allows('undelete')).toBe(true); // anchored at both ends
  });

  it('--only-tool allows only matches, and --ignore-tool still removes from them', () => {
    const f = new ToolFilter({ only: ['read_*', 'search'], ignore: ['read_secrets'] });
    expect(['read_file', 'read_secrets', 'search', 'write_file'].filter((n) => f.allows(n))).toEqual(['read_file', 'search']);
  });

  it('filters a list page, keeping the cursor and every other field; undefined when nothing is hidden', () => {
    const f = new ToolFilter({ ignore: ['b'] });
    expect(f.filterListResult({ tools: [{ name: 'a' }, { name: 'b' }], nextCursor: 'c2', _meta: { x: 1 } })).toEqual({ tools: [{ name: 'a' }], nextCursor: 'c2', _meta: { x: 1 } });
    expect(f.filterListResult({ tools: [{ name: 'a' }], nextCursor: 'c3' })).toBeUndefined();
    expect(f.filterListResult({ notTools: true })).toBeUndefined();
    expect(f.filterListResult(undefined)).toBeUndefined();
  });
});

/** One tool argument mirrored into an `Mcp-Param-{name}` header. */
export interface HeaderParam {
  /** The header name after `Mcp-Param-`, as the schema spells it. */
  name: string;
  /** The chain of `properties` keys from the schema root to the argument. */
  path: string[];
}

export type HeaderParamsResult = { ok: true; params: HeaderParam[] } | { ok: false; reason: string };

/** RFC 9110 token characters (`1*tchar`). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRIMITIVE = new Set(['string', 'integer', 'boolean']);
/**
 * Keywords whose subschemas are not statically reachable: an annotation under them is invalid.
 * Every JSON Schema 2020-12 applicator and its draft-07 forebears, each holding one subschema…
 */
const UNREACHABLE_ONE = new Set(['items', 'additionalProperties', 'unevaluatedProperties', 'unevaluatedItems', 'propertyNames', 'contains', 'contentSchema', 'not', 'if', 'then', 'else']);
/** …or an array or a map of them (a map of `dependencies` may hold property-name arrays too: no schema, nothing to find). */
const UNREACHABLE_MANY = ['prefixItems', 'patternProperties', 'oneOf', 'anyOf', 'allOf', '$defs', 'definitions', 'dependentSchemas', 'dependencies'];
const UNREACHABLE = [...UNREACHABLE_ONE, ...UNREACHABLE_MANY];

/**
 * Reads the `x-mcp-header` annotations of a tool's inputSchema (spec: streamable-http, "Custom
 * Headers from Tool Parameters"). An annotation that breaks any rule (empty, not a token, not
 * unique, not on a string/integer/boolean property reachable through `properties` only) makes the
 * whole tool invalid: the caller drops it from tools/list, as the spec requires of HTTP clients.
 */
export function headerParamsOf(inputSchema: unknown): HeaderParamsResult {
  const params: HeaderParam[] = [];
  const seen = new Set<string>();
  let problem: string | undefined;
  const visit = (schema: unknown, path: string[], reachable: boolean, depth: number): void => {
    if (problem || !schema || typeof schema !== 'object' || depth > 32) return;
    const s = schema as Record<string, unknown>;
    if ('x-mcp-header' in s) {
      const name = s['x-mcp-header'];
      const where = path.length ? path.join('.') : '(root)';
      if (!reachable || path.length === 0) return void (problem = `x-mcp-header on "${where}", which is not reachable through "properties" alone`);
      if (typeof name !== 'string' || !TOKEN.test(name)) return void (problem = `x-mcp-header ${JSON.stringify(name)} on "${where}" is not a valid header name`);
      if (typeof s.type !== 'string' || !PRIMITIVE.has(s.type)) return void (problem = `x-mcp-header on "${where}" needs type string, integer or boolean (has ${JSON.stringify(s.type)})`);
      if (seen.has(name.toLowerCase())) return void (problem = `x-mcp-header "${name}" is used twice`);
      seen.add(name.toLowerCase());
      params.push({ name, path });
    }
    if (s.properties && typeof s.properties === 'object') {
      for (const [key, sub] of Object.entries(s.properties as Record<string, unknown>)) visit(sub, [...path, key], reachable, depth + 1);
    }
    for (const keyword of UNREACHABLE) {
      const sub = s[keyword];
      if (Array.isArray(sub)) for (const item of sub) visit(item, path, false, depth + 1);
      else if (sub && typeof sub === 'object') {
        for (const item of UNREACHABLE_ONE.has(keyword) ? [sub] : Object.values(sub)) visit(item, path, false, depth + 1);
      }
    }
  };
  visit(inputSchema, [], true, 0);
  return problem ? { ok: false, reason: problem } : { ok: true, params };
}

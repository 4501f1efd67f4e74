import { describe, expect, it } from 'vitest';
import { canonicalApiPath } from '../src/http/api-target.ts';
import { allows, parseScope, requiredScope, scopeString } from '../src/grants/scope.ts';

/** As the proxy judges a path: canonical (decoded, case-folded) form. */
const needs = (method: string, path: string) => {
  const canonical = canonicalApiPath(path);
  if (!canonical.ok) throw new Error(canonical.problem);
  return requiredScope(method, canonical.path);
};

describe('what a call needs', () => {
  it.each([
    ['GET', '/api/4.0/user'],
    ['HEAD', '/api/4.0/looks/1'],
    ['GET', '/api/4.0/queries/7/run/json'],
    ['GET', '/api/4.0/queries/models/demo/views/orders/run/json'],
    ['POST', '/api/4.0/queries'],
    ['POST', '/api/4.0/queries/run/json'],
    ['POST', '/api/4.0/queries/run/sql'],
    ['POST', '/api/4.0/queries/run_inline'],
    ['POST', '/api/4.0/query_tasks'],
    ['POST', '/api/3.1/queries'],
    ['POST', '/api/queries/run/csv'],
    ['POST', '/api/4.0/QUERIES/RUN/JSON'],
    ['POST', '/api/4.0/queries/run/%E2%9C%93'],
  ])('%s %s: looker:read', (method, path) => {
    expect(needs(method, path)).toBe('looker:read');
  });

  it.each([
    ['POST', '/api/4.0/looks'],
    ['PATCH', '/api/4.0/looks/1'],
    ['PUT', '/api/4.0/queries'],
    ['DELETE', '/api/4.0/dashboards/1'],
    ['PATCH', '/api/4.0/queries/7'],
    ['POST', '/api/4.0/queries/7'],
    ['POST', '/api/4.0/queries/run/json/extra'],
    ['POST', '/api/4.0/query_tasks/abc'],
    ['POST', '/api/4.0/render_tasks/queries/7/png'],
    ['POST', '/api/4.0/users'],
    // SQL Runner runs any SQL: never reading, whatever the method or spelling.
    ['POST', '/api/4.0/sql_queries'],
    ['POST', '/api/4.0/sql_queries/abc/run/json'],
    ['GET', '/api/4.0/sql_queries/abc'],
    ['GET', '/api/4.0/SQL_QUERIES/abc/run/json'],
    ['GET', '/api/sql_queries/abc'],
    ['GET', '/api/4.0/Sql_Queries'],
    ['OPTIONS', '/api/4.0/user'],
  ])('%s %s: looker:write', (method, path) => {
    expect(needs(method, path)).toBe('looker:write');
  });
});

describe('a grant’s scope', () => {
  it('write allows everything; read only reading', () => {
    expect([allows('write', 'looker:write'), allows('write', 'looker:read'), allows('read', 'looker:read'), allows('read', 'looker:write')]).toEqual([true, true, true, false]);
  });

  it('reads a requested scope: read-only unless looker:write is asked for; anything else is refused', () => {
    expect(parseScope(undefined)).toBe('read');
    expect(parseScope('')).toBe('read');
    expect(parseScope('looker:read')).toBe('read');
    expect(parseScope('looker:read looker:write')).toBe('write');
    expect(parseScope('looker:write')).toBe('write');
    expect(parseScope('  looker:write  ')).toBe('write');
    expect(parseScope('looker:read admin')).toBeUndefined();
    expect(parseScope('LOOKER:WRITE')).toBeUndefined();
    expect([scopeString('read'), scopeString('write')]).toEqual(['looker:read', 'looker:read looker:write']);
  });
});

/**
 * Looker filter expressions (https://cloud.google.com/looker/docs/filter-expressions), the
 * part of them the simulator reads: each becomes a test of a value and the SQL condition a
 * generated query shows.
 *
 * - string: `foo` (equals), `foo,bar` (any of), `-foo` (not), `%oo%` / `fo_` (LIKE, case
 *   blind), `NULL`, `EMPTY`, `-NULL`, `-EMPTY`; `^` escapes `,` `%` `_` `-` `^`.
 * - number: `5`, `>5`, `>=5`, `<5`, `<=5`, `NOT 5` / `!=5` / `<>5`, `1,3,5`, `5 to 10`,
 *   `[5,10]` / `(5,10)` / `[5,10)`, `>=5 AND <10`, `NULL`, `NOT NULL`.
 * - yesno: `Yes`, `No`.
 * - date (UTC): `2024-01-15`, `2024-01`, `2024`, `2024-01-01 to 2024-02-01` (the end left
 *   out), `before 2024-03-01`, `after 2024-03-01` (the day itself in), `today`,
 *   `yesterday`, `7 days` (today and the 6 before), `3 months` (this month and the 2
 *   before), `2 weeks ago`, `this month`, `last month`, `NULL`, `NOT NULL`.
 *
 * Anything else throws a FilterError naming the expression and the field.
 */
import { timestampMs, timestampText, type Cell } from './demo-data.ts';
import type { FilterKind } from './demo-model.ts';

export class FilterError extends Error {}

export interface Filter {
  matches(value: Cell): boolean;
  /** The condition on `expression` (a column or a field's SQL). */
  sql(expression: string): string;
}

/** One comma-separated part: positives are OR'ed, negated parts AND'ed after them. */
interface Term {
  negated: boolean;
  matches(value: Cell): boolean;
  sql(expression: string): string;
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
const regexEscape = (text: string) => text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&');

function combine(terms: readonly Term[]): Filter {
  const positives = terms.filter((t) => !t.negated);
  const negatives = terms.filter((t) => t.negated);
  return {
    matches: (value) => (positives.length === 0 || positives.some((t) => t.matches(value))) && negatives.every((t) => !t.matches(value)),
    sql: (expression) => {
      const parts = negatives.map((t) => `NOT (${t.sql(expression)})`);
      if (positives.length > 0) parts.unshift(positives.length === 1 ? positives[0]!.sql(expression) : `(${positives.map((t) => t.sql(expression)).join(' OR ')})`);
      return parts.join(' AND ');
    },
  };
}

export function parseFilter(kind: FilterKind, expression: string, field: string, now: number): Filter {
  const unsupported = () => new FilterError(`Unsupported filter expression ${JSON.stringify(expression)} for ${field}`);
  switch (kind) {
    case 'string':
      return combine(stringTerms(expression));
    case 'number':
      return combine(splitOutsideBrackets(expression).map((part) => numberTerm(part) ?? throwError(unsupported())));
    case 'yesno': {
      const answer = expression.trim().toLowerCase();
      if (answer !== 'yes' && answer !== 'no') throw unsupported();
      const wanted = answer === 'yes' ? 'Yes' : 'No';
      return combine([{ negated: false, matches: (v) => v === wanted, sql: (e) => `(${e}) = '${wanted}'` }]);
    }
    case 'date':
      return combine([dateTerm(expression, now) ?? throwError(unsupported())]);
  }
}

const throwError = (error: Error): never => {
  throw error;
};

// --- strings ---------------------------------------------------------------------------

/** Splits on unescaped commas, keeping the escapes (`^,` stays in its part). */
function splitUnescaped(expression: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i]!;
    if (ch === '^' && i + 1 < expression.length) {
      current += ch + expression[++i];
    } else if (ch === ',') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function stringTerms(expression: string): Term[] {
  return splitUnescaped(expression).map((part) => {
    const negated = part.startsWith('-');
    const body = negated ? part.slice(1) : part;
    if (body === 'NULL') return { negated, matches: (v) => v === null, sql: (e) => `(${e}) IS NULL` };
    if (body === 'EMPTY') return { negated, matches: (v) => v === null || v === '', sql: (e) => `((${e}) IS NULL OR LENGTH(${e}) = 0)` };
    // Walk the escapes once: the literal text, and a LIKE pattern when % or _ appear bare.
    let literal = '';
    let regex = '';
    let wildcard = false;
    for (let i = 0; i < body.length; i++) {
      const ch = body[i]!;
      if (ch === '^' && i + 1 < body.length) {
        const escaped = body[++i]!;
        literal += escaped;
        regex += regexEscape(escaped);
      } else if (ch === '%' || ch === '_') {
        wildcard = true;
        literal += ch;
        regex += ch === '%' ? '.*' : '.';
      } else {
        literal += ch;
        regex += regexEscape(ch);
      }
    }
    if (wildcard) {
      const pattern = new RegExp(`^${regex}$`, 'is');
      return { negated, matches: (v) => v !== null && pattern.test(String(v)), sql: (e) => `LOWER(${e}) LIKE LOWER(${quote(body.replaceAll(/\^(.)/g, '$1'))})` };
    }
    return { negated, matches: (v) => v !== null && String(v) === literal, sql: (e) => `(${e}) = ${quote(literal)}` };
  });
}

// --- numbers ---------------------------------------------------------------------------

/** Splits on commas outside `[…]` and `(…)`. */
function splitOutsideBrackets(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of expression) {
    if (ch === '[' || ch === '(') depth++;
    if (ch === ']' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
type Comparison = '=' | '>' | '>=' | '<' | '<=';
const compare = (op: Comparison, a: number, b: number) => (op === '=' ? a === b : op === '>' ? a > b : op === '>=' ? a >= b : op === '<' ? a < b : a <= b);

function rangeTerm(low: number, high: number, lowIn: boolean, highIn: boolean): Term {
  const lowOp: Comparison = lowIn ? '>=' : '>';
  const highOp: Comparison = highIn ? '<=' : '<';
  return {
    negated: false,
    matches: (v) => typeof v === 'number' && compare(lowOp, v, low) && compare(highOp, v, high),
    sql: (e) => `(${e}) ${lowOp} ${low} AND (${e}) ${highOp} ${high}`,
  };
}

function numberTerm(part: string): Term | null {
  if (/^NULL$/i.test(part)) return { negated: false, matches: (v) => v === null, sql: (e) => `(${e}) IS NULL` };
  if (/^NOT NULL$/i.test(part)) return { negated: true, matches: (v) => v === null, sql: (e) => `(${e}) IS NULL` };
  let m = new RegExp(String.raw`^([[(])\s*(${NUMBER})\s*,\s*(${NUMBER})\s*([\])])$`).exec(part);
  if (m) return rangeTerm(Number(m[2]), Number(m[3]), m[1] === '[', m[4] === ']');
  m = new RegExp(String.raw`^(${NUMBER})\s+to\s+(${NUMBER})$`, 'i').exec(part);
  if (m) return rangeTerm(Number(m[1]), Number(m[2]), true, true);
  m = new RegExp(String.raw`^(>=?)\s*(${NUMBER})\s+AND\s+(<=?)\s*(${NUMBER})$`, 'i').exec(part);
  if (m) return rangeTerm(Number(m[2]), Number(m[4]), m[1] === '>=', m[3] === '<=');
  m = new RegExp(String.raw`^(NOT\s+|!=\s*|<>\s*)?(>=|<=|>|<|=)?\s*(${NUMBER})$`, 'i').exec(part);
  if (m) {
    const op = (m[2] ?? '=') as Comparison;
    const n = Number(m[3]);
    return { negated: m[1] !== undefined, matches: (v) => typeof v === 'number' && compare(op, v, n), sql: (e) => `(${e}) ${op} ${n}` };
  }
  return null;
}

// --- dates -----------------------------------------------------------------------------

type Unit = 'day' | 'week' | 'month' | 'quarter' | 'year';
const DAY_MS = 86_400_000;

function startOf(unit: Unit, ms: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (unit) {
    case 'day':
      return Math.floor(ms / DAY_MS) * DAY_MS;
    case 'week':
      return Math.floor(ms / DAY_MS) * DAY_MS - ((d.getUTCDay() + 6) % 7) * DAY_MS;
    case 'month':
      return Date.UTC(y, m, 1);
    case 'quarter':
      return Date.UTC(y, m - (m % 3), 1);
    case 'year':
      return Date.UTC(y, 0, 1);
  }
}

/** `ms` (the start of a unit) moved by `n` units. */
function addUnits(unit: Unit, ms: number, n: number): number {
  const d = new Date(ms);
  switch (unit) {
    case 'day':
      return ms + n * DAY_MS;
    case 'week':
      return ms + 7 * n * DAY_MS;
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
    case 'quarter':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3 * n, 1);
    case 'year':
      return Date.UTC(d.getUTCFullYear() + n, 0, 1);
  }
}

/** `[start, end)` of a date literal: `2024`, `2024-03`, `2024-03-05`, `2024/03/05 10:30`… */
function literalPeriod(text: string): [number, number] | null {
  const m = /^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?)?)?$/.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((part) => (part === undefined ? undefined : Number(part)));
  const start = Date.UTC(year!, (month ?? 1) - 1, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0);
  if (Number.isNaN(start) || (month !== undefined && (month < 1 || month > 12)) || (day !== undefined && (day < 1 || day > 31))) return null;
  const unit: Unit | 'minute' = hour !== undefined ? 'minute' : day !== undefined ? 'day' : month !== undefined ? 'month' : 'year';
  return [start, unit === 'minute' ? start + 60_000 : addUnits(unit, start, 1)];
}

/** `[start, end)`; a null bound is open. */
function periodTerm(start: number | null, end: number | null): Term {
  const conditions = (e: string) => [
    ...(start === null ? [] : [`(${e}) >= TIMESTAMP('${timestampText(start)}')`]),
    ...(end === null ? [] : [`(${e}) < TIMESTAMP('${timestampText(end)}')`]),
  ];
  return {
    negated: false,
    matches: (v) => typeof v === 'string' && (start === null || timestampMs(v) >= start) && (end === null || timestampMs(v) < end),
    sql: (e) => conditions(e).join(' AND '),
  };
}

function dateTerm(expression: string, now: number): Term | null {
  const text = expression.trim().toLowerCase().replaceAll(/\s+/g, ' ');
  if (text === 'null') return { negated: false, matches: (v) => v === null, sql: (e) => `(${e}) IS NULL` };
  if (text === 'not null') return { negated: true, matches: (v) => v === null, sql: (e) => `(${e}) IS NULL` };
  const today = startOf('day', now);
  if (text === 'today') return periodTerm(today, today + DAY_MS);
  if (text === 'yesterday') return periodTerm(today - DAY_MS, today);

  let m = /^(\d+) (day|week|month|quarter|year)s?( ago)?$/.exec(text);
  if (m) {
    const n = Number(m[1]);
    const unit = m[2] as Unit;
    const current = startOf(unit, now);
    if (n < 1) return null;
    // `3 months`: this month and the two before; `3 months ago`: that one month.
    return m[3] ? periodTerm(addUnits(unit, current, -n), addUnits(unit, current, 1 - n)) : periodTerm(addUnits(unit, current, 1 - n), addUnits(unit, current, 1));
  }
  m = /^(this|last) (day|week|month|quarter|year)$/.exec(text);
  if (m) {
    const unit = m[2] as Unit;
    const start = addUnits(unit, startOf(unit, now), m[1] === 'last' ? -1 : 0);
    return periodTerm(start, addUnits(unit, start, 1));
  }
  m = /^(.+) to (.+)$/.exec(text);
  if (m) {
    const from = literalPeriod(m[1]!);
    const to = literalPeriod(m[2]!);
    return from && to ? periodTerm(from[0], to[0]) : null;
  }
  m = /^(before|after) (.+)$/.exec(text);
  if (m) {
    const at = literalPeriod(m[2]!);
    if (at === null) return null;
    return m[1] === 'before' ? periodTerm(null, at[0]) : periodTerm(at[0], null);
  }
  const period = literalPeriod(text);
  return period === null ? null : periodTerm(period[0], period[1]);
}

// What the query editor knows of Datadog's query syntax
// (`avg:system.cpu.user{env:prod,!host:a} by {host}.rollup(avg, 60)`):
// where a parse error is, what is being typed at the cursor (for
// autocomplete), and the simple form the pickers edit. The server's parser
// (whippet-ddql) is the judge of what is valid; nothing here rejects a query.

/** A parse error of `/api/v1/query`, placed in the query text. */
export interface QueryProblem {
  message: string;
  /** Index in the JavaScript string (UTF-16), or null when not placed. */
  index: number | null;
}

/** Reads `Error parsing query: ... at position N` (N a byte offset in the
 *  UTF-8 query; the last position named is where the parser stopped). */
export function placeError(message: string, query: string): QueryProblem {
  if (!message.startsWith('Error parsing query:')) return { message, index: null };
  const all = [...message.matchAll(/at position (\d+)/g)];
  if (all.length === 0) return { message, index: null };
  const byte = Number(all[all.length - 1][1]);
  return { message, index: byteToIndex(query, byte) };
}

/** The string index of a UTF-8 byte offset of `s`. */
export function byteToIndex(s: string, byte: number): number {
  const bytes = new TextEncoder().encode(s);
  if (byte >= bytes.length) return s.length;
  return new TextDecoder().decode(bytes.slice(0, byte)).length;
}

/** What the cursor is in, for autocomplete. `start`..`end` is the text a
 *  chosen suggestion replaces. */
export type Context =
  | { kind: 'metric'; prefix: string; start: number; end: number; aggregators: boolean }
  | { kind: 'tagKey'; metric: string | null; prefix: string; start: number; end: number }
  | { kind: 'tagValue'; metric: string | null; key: string; prefix: string; start: number; end: number }
  | { kind: 'groupKey'; metric: string | null; prefix: string; start: number; end: number };

const WORD = /[\w.\-/]/;

/** The context at `caret` in `text`, or null (in a function's
 *  parameters, after a closing brace, ...). */
export function contextAt(text: string, caret: number): Context | null {
  // The innermost `{` still open at the caret.
  let open = -1;
  for (let i = 0; i < caret; i++) {
    if (text[i] === '{') open = i;
    else if (text[i] === '}') open = -1;
  }
  let end = caret;
  while (end < text.length && WORD.test(text[end])) end++;

  if (open >= 0) {
    const inner = text.slice(open + 1, caret);
    // The item being typed starts after a separator of scope terms.
    const m = /[^,\s(!{]*$/.exec(inner)!;
    const item = m[0];
    const start = caret - item.length;
    const before = text.slice(0, open);
    if (/\bby\s*$/.test(before)) {
      return { kind: 'groupKey', metric: metricBefore(text, before.replace(/\s*by\s*$/, '').length), prefix: item, start, end };
    }
    const metric = metricBefore(text, open);
    const colon = item.indexOf(':');
    if (colon >= 0) {
      return {
        kind: 'tagValue',
        metric,
        key: item.slice(0, colon),
        prefix: item.slice(colon + 1),
        start: start + colon + 1,
        end,
      };
    }
    return { kind: 'tagKey', metric, prefix: item, start, end };
  }

  // Outside a scope: a metric name, after `aggr:` or where an expression
  // starts.
  let start = caret;
  while (start > 0 && /[\w.:]/.test(text[start - 1])) start--;
  const token = text.slice(start, caret);
  const prev = text.slice(0, start).trimEnd();
  const startsExpr = prev === '' || /[(,+\-*/]$/.test(prev);
  if (!startsExpr) return null;
  const colon = token.lastIndexOf(':');
  if (colon >= 0) {
    return { kind: 'metric', prefix: token.slice(colon + 1), start: start + colon + 1, end, aggregators: false };
  }
  return { kind: 'metric', prefix: token, start, end, aggregators: true };
}

/** The metric whose scope closes at or opens at `pos`: the name right
 *  before the `{` (for a `by {}` clause, the scope before it). */
function metricBefore(text: string, pos: number): string | null {
  let p = pos;
  if (text[p - 1] === '}') {
    // A `by` clause: find the scope's `{`.
    p = text.lastIndexOf('{', p - 1);
    if (p < 0) return null;
  }
  const m = /([A-Za-z][\w.]*)\s*$/.exec(text.slice(0, p));
  return m ? m[1] : null;
}

/** Ranks `names` for a typed prefix: names starting with it first, then
 *  names containing it, each in their order; at most `limit`. */
export function rank(names: Iterable<string>, prefix: string, limit = 50): string[] {
  const p = prefix.toLowerCase();
  const starts: string[] = [];
  const contains: string[] = [];
  for (const n of names) {
    const l = n.toLowerCase();
    if (l.startsWith(p)) starts.push(n);
    else if (p && l.includes(p)) contains.push(n);
  }
  return starts.concat(contains).slice(0, limit);
}

// ---- The simple form: `[functions(]aggr:metric{scope} [by {keys}][rest]`.

export const SPACE_AGGREGATORS = ['avg', 'sum', 'min', 'max'];

export interface Simple {
  pre: string;
  aggr: string | null;
  metric: string;
  scope: string;
  by: string[];
  post: string;
}

const SIMPLE = /^(.*?)(?:\b(avg|sum|min|max):)?\b([A-Za-z][\w.]*)\{([^{}]*)\}(?:\s*by\s*\{([^{}]*)\})?(.*)$/s;

/** The first metric query of `text` in its parts, or null. */
export function parseSimple(text: string): Simple | null {
  const m = SIMPLE.exec(text);
  if (!m) return null;
  return {
    pre: m[1],
    aggr: m[2] ?? null,
    metric: m[3],
    scope: m[4],
    by: (m[5] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    post: m[6],
  };
}

export function formatSimple(s: Simple): string {
  const by = s.by.length ? ` by {${s.by.join(',')}}` : '';
  return `${s.pre}${s.aggr ? s.aggr + ':' : ''}${s.metric}{${s.scope}}${by}${s.post}`;
}

/** Functions offered in the editor's menu, applied to the whole query. */
export const FUNCTIONS: { label: string; apply: (q: string) => string }[] = [
  ...['abs', 'per_second', 'per_minute', 'diff', 'derivative', 'cumsum', 'integral', 'log10', 'ewma_5', 'median_5', 'hour_before', 'day_before'].map(
    (f) => ({ label: `${f}()`, apply: (q: string) => `${f}(${q})` }),
  ),
  { label: "top(…, 10, 'mean', 'desc')", apply: (q) => `top(${q}, 10, 'mean', 'desc')` },
  { label: 'timeshift(…, -3600)', apply: (q) => `timeshift(${q}, -3600)` },
  { label: '.rollup(avg, 60)', apply: (q) => `${q}.rollup(avg, 60)` },
  { label: '.as_count()', apply: (q) => `${q}.as_count()` },
  { label: '.as_rate()', apply: (q) => `${q}.as_rate()` },
  { label: '.fill(zero)', apply: (q) => `${q}.fill(zero)` },
];

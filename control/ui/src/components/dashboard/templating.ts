// Template variables (`$host`, `$env`): the value each one has, and how it
// is put into a query, as Datadog does it.
//
// - `$name` in a scope stands for the tag `prefix:value`:
//   `avg:m{$host,$env}` with host = web-1 and env = * is
//   `avg:m{host:web-1,*}` (`*` filters nothing, so "all" keeps the query
//   valid). A variable without a prefix stands for its bare value.
// - `$name.value` stands for the value alone (`{service:$svc.value}`);
//   "all" gives `*`.
// - A `$word` that names no variable of the dashboard is left as written
//   (the server then says what is wrong with the query).
//
// Pure functions, no DOM: used by the dashboard page (values from the URL)
// and by every widget (its queries).

import type { Dashboard, TemplateVariable, Widget } from '../../lib/dashboards-api';

/** "All values": the variable filters nothing. */
export const ALL = '*';

/** A variable with the value it has now. */
export interface VarValue {
  name: string;
  prefix: string | null;
  value: string;
}

/** The value a variable starts with: its `defaults[0]`, else its
 *  `default`, else all. */
export function defaultOf(v: TemplateVariable): string {
  const d = v.defaults?.find((x) => typeof x === 'string' && x !== '') ?? v.default;
  return typeof d === 'string' && d !== '' ? d : ALL;
}

/** The URL parameter of a variable (Datadog's `tpl_var_<name>`). */
export const paramOf = (name: string) => `tpl_var_${name}`;

/** Every variable of `d` with its value: the URL's, else its default. */
export function currentValues(vars: TemplateVariable[], params: URLSearchParams): VarValue[] {
  return vars
    .filter((v) => v && typeof v.name === 'string' && v.name)
    .map((v) => ({ name: v.name, prefix: v.prefix ? String(v.prefix) : null, value: params.get(paramOf(v.name)) || defaultOf(v) }));
}

/** `query` with every variable of `vars` replaced (see the module doc). */
export function substitute(query: string, vars: VarValue[]): string {
  if (!vars.length || !query.includes('$')) return query;
  const byName = new Map(vars.map((v) => [v.name, v]));
  return query.replace(/\$([A-Za-z_][\w-]*)(\.value)?/g, (whole, name: string, dotValue: string | undefined) => {
    const v = byName.get(name);
    if (!v) return whole;
    if (dotValue) return v.value;
    if (v.value === ALL) return ALL;
    return v.prefix ? `${v.prefix}:${v.value}` : v.value;
  });
}

/** The metric names the dashboard's queries read (classic `q` and formula
 *  queries, in groups too), in order of first use: where the values of a
 *  variable's tag key are looked up. */
export function metricsOf(d: Pick<Dashboard, 'widgets'>): string[] {
  const out = new Set<string>();
  const scan = (q: unknown) => {
    if (typeof q !== 'string') return;
    // A metric name is what stands right before a scope's `{`, after an
    // optional `aggregator:` (and never after `by`).
    for (const m of q.matchAll(/(?:^|[^\w.])(?:[a-z0-9.]+:)?([A-Za-z][\w.]*)\s*\{/g)) {
      if (m[1] !== 'by') out.add(m[1]);
    }
  };
  const walk = (ws: Widget[] | undefined) => {
    for (const w of ws ?? []) {
      const def = w?.definition;
      if (!def) continue;
      const reqs = Array.isArray(def.requests) ? def.requests : [];
      for (const r of reqs) {
        scan(r.q);
        for (const q of r.queries ?? []) scan(q?.query);
      }
      walk(def.widgets);
    }
  };
  walk(d.widgets);
  return [...out];
}

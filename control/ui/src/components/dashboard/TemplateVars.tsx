// Template variables on the dashboard page: a dropdown per variable
// (`$host: web-1`) whose values are the variable's `available_values`, or
// else the values of its tag key (`prefix`) among the tags of the metrics
// the dashboard queries (`/api/v2/metrics/{m}/all-tags`, cached a minute
// by lib/metadata.ts); and, in edit mode, the editor of the variables
// themselves (name, tag key, default).

import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../../api';
import type { TemplateVariable } from '../../lib/dashboards-api';
import { metricTags, tagKeys, tagValues } from '../../lib/metadata';
import { ALL, defaultOf, type VarValue } from './templating';

/** Metrics whose tags are read for the dropdowns: a dashboard's first
 *  few cover its variables; a request each, so not hundreds. */
const MAX_METRICS = 20;

/** Every `key:value` tag of the dashboard's metrics (the first
 *  MAX_METRICS), once `ready`. */
export function useDashboardTags(metrics: string[], ready: boolean): { tags: string[]; error: string | null } {
  const [state, setState] = useState<{ tags: string[]; error: string | null }>({ tags: [], error: null });
  const key = metrics.slice(0, MAX_METRICS).join('\n');
  useEffect(() => {
    if (!ready || !key) return;
    let live = true;
    Promise.allSettled(key.split('\n').map((m) => metricTags(m))).then((rs) => {
      if (!live) return;
      const all = new Set<string>();
      let error: string | null = null;
      for (const r of rs) {
        if (r.status === 'fulfilled') r.value.forEach((t) => all.add(t));
        else error = messageOf(r.reason);
      }
      setState({ tags: [...all], error });
    });
    return () => {
      live = false;
    };
  }, [key, ready]);
  return state;
}

export interface TemplateBarProps {
  vars: TemplateVariable[];
  values: VarValue[];
  tags: string[];
  onChange: (name: string, value: string) => void;
}

/** The dropdowns. */
export function TemplateBar({ vars, values, tags, onChange }: TemplateBarProps) {
  if (!values.length) return null;
  return (
    <div class="tvars" role="group" aria-label="Template variables">
      {values.map((v) => {
        const def = vars.find((x) => x.name === v.name);
        const given = (def?.available_values ?? []).filter((x) => typeof x === 'string' && x);
        const found = v.prefix ? tagValues(tags, v.prefix) : [];
        const options = [...new Set([...(given.length ? given : found), ...(v.value !== ALL ? [v.value] : [])])].sort();
        return (
          <label key={v.name} class={`tvar${v.value !== ALL ? ' set' : ''}`} title={v.prefix ? `Tag ${v.prefix}` : undefined}>
            <span class="tvar-name">${v.name}</span>
            <select aria-label={`$${v.name}`} value={v.value} onChange={(e) => onChange(v.name, e.currentTarget.value)}>
              <option value={ALL}>* (all)</option>
              {options.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          </label>
        );
      })}
    </div>
  );
}

export interface VarsEditorProps {
  vars: TemplateVariable[];
  tags: string[];
  onChange: (vars: TemplateVariable[]) => void;
}

/** The variables' editor (edit mode). */
export function VarsEditor({ vars, tags, onChange }: VarsEditorProps) {
  const keys = tagKeys(tags);
  const set = (i: number, patch: Partial<TemplateVariable>) => onChange(vars.map((v, j) => (j === i ? { ...v, ...patch } : v)));
  const names = vars.map((v) => v.name);
  return (
    <div class="vars-editor" data-testid="vars-editor">
      <div class="vars-head">
        <strong>Template variables</strong>
        <span class="muted">
          Use <code>$name</code> in a query's scope (<code>{'avg:system.cpu.user{$host}'}</code>); "all" puts <code>*</code>.
        </span>
      </div>
      {vars.map((v, i) => {
        const dup = names.indexOf(v.name) !== i;
        return (
          <div class="vars-row" key={i}>
            <label class="field">
              Name
              <input type="text" aria-label={`Variable ${i + 1} name`} value={v.name} placeholder="host" onInput={(e) => set(i, { name: e.currentTarget.value.replace(/[^\w-]/g, '') })} />
            </label>
            <label class="field">
              Tag key
              <input type="text" aria-label={`Variable ${i + 1} tag key`} list="tvar-keys" value={v.prefix ?? ''} placeholder="host" onInput={(e) => set(i, { prefix: e.currentTarget.value || null })} />
            </label>
            <label class="field">
              Default
              <input
                type="text"
                aria-label={`Variable ${i + 1} default`}
                value={defaultOf(v)}
                placeholder="*"
                onInput={(e) => {
                  const d = e.currentTarget.value || ALL;
                  set(i, { default: d, defaults: [d] });
                }}
              />
            </label>
            <button type="button" class="icon" aria-label={`Remove variable ${v.name || i + 1}`} title="Remove this variable" onClick={() => onChange(vars.filter((_, j) => j !== i))}>
              ×
            </button>
            {(dup || !v.name) && <span class="error">{dup ? 'Names must differ.' : 'A name is needed.'}</span>}
          </div>
        );
      })}
      <datalist id="tvar-keys">
        {keys.map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
      <button type="button" onClick={() => onChange([...vars, { name: nextName(names, keys), prefix: nextName(names, keys), default: ALL, defaults: [ALL] }])}>
        + Add variable
      </button>
    </div>
  );
}

/** A name for a new variable: a tag key not used yet (host, env first). */
function nextName(used: string[], keys: string[]): string {
  for (const k of ['host', 'env', 'service', ...keys]) if (!used.includes(k)) return k;
  let n = 1;
  while (used.includes(`var${n}`)) n++;
  return `var${n}`;
}

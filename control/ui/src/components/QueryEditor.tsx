// One metric query's editor: a text area that grows with the query, with
// autocomplete of metric names, tag keys and tag values, pickers for the
// space aggregation, the group-by and functions, and the parse error marked
// at its position.
//
// The marking works with a backdrop: a div behind the (transparent) text
// area holding the same text in the same font and wrapping, in which the
// character at the error is highlighted and an empty span sits at the
// caret (its offset places the suggestion list).

import type { ComponentChildren, Ref } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from '../api';
import { metricNames, metricTags, tagKeys, tagValues } from '../lib/metadata';
import {
  FUNCTIONS,
  SPACE_AGGREGATORS,
  contextAt,
  formatSimple,
  parseSimple,
  rank,
  type Context,
  type QueryProblem,
} from '../lib/query';

export interface QueryEditorProps {
  /** `a`, `b`, ...: names the query in the legend. */
  letter: string;
  value: string;
  onChange: (text: string) => void;
  /** Enter (without a suggestion open), or a picker's change. */
  onRun: (text: string) => void;
  problem: QueryProblem | null;
  onRemove?: () => void;
}

interface Suggestion {
  /** What the list shows. */
  label: string;
  /** What replaces the context's range. */
  insert: string;
  /** Offered again right after (a tag key's values). */
  reopen?: boolean;
}

export function QueryEditor({ letter, value, onChange, onRun, problem, onRemove }: QueryEditorProps) {
  const area = useRef<HTMLTextAreaElement>(null);
  const caretMark = useRef<HTMLSpanElement>(null);
  const [caret, setCaret] = useState(value.length);
  const [focused, setFocused] = useState(false);
  const [dismissed, setDismissed] = useState(false);
  const [items, setItems] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(0);
  const [suggestError, setSuggestError] = useState<string | null>(null);
  const [popupAt, setPopupAt] = useState({ left: 0, top: 0 });
  const [keys, setKeys] = useState<string[]>([]);
  const pendingCaret = useRef<number | null>(null);
  const ctx = focused && !dismissed ? contextAt(value, caret) : null;
  const simple = parseSimple(value);

  // The text area is as tall as its text.
  useLayoutEffect(() => {
    const a = area.current!;
    a.style.height = 'auto';
    a.style.height = `${a.scrollHeight}px`;
    if (pendingCaret.current !== null) {
      a.setSelectionRange(pendingCaret.current, pendingCaret.current);
      setCaret(pendingCaret.current);
      pendingCaret.current = null;
    }
  }, [value]);

  // The suggestions for the context at the caret.
  const ctxKey = ctx ? `${ctx.kind}|${'metric' in ctx ? ctx.metric : ''}|${'key' in ctx ? ctx.key : ''}|${ctx.prefix}` : '';
  useEffect(() => {
    if (!ctx) {
      setItems([]);
      return;
    }
    let live = true;
    suggestionsFor(ctx)
      .then((list) => {
        if (!live) return;
        // Nothing to offer when the only match is what is typed already.
        const useful = list.length === 1 && list[0].insert === ctx.prefix ? [] : list;
        setItems(useful);
        setActive(0);
        setSuggestError(null);
      })
      .catch((e) => live && setSuggestError(`Autocomplete is unavailable: ${messageOf(e)}`));
    return () => {
      live = false;
    };
  }, [ctxKey]);

  // The list opens under the caret.
  useLayoutEffect(() => {
    const m = caretMark.current;
    if (m) setPopupAt({ left: Math.min(m.offsetLeft, (area.current?.clientWidth ?? 400) - 260), top: m.offsetTop + m.offsetHeight + 4 });
  }, [caret, value, items.length]);

  // Tag keys of the query's metric, for the group-by picker.
  const metric = simple?.metric ?? null;
  useEffect(() => {
    if (!metric) return setKeys([]);
    let live = true;
    metricTags(metric)
      .then((t) => live && setKeys(tagKeys(t)))
      .catch(() => live && setKeys([]));
    return () => {
      live = false;
    };
  }, [metric]);

  const open = !!ctx && (items.length > 0 || !!suggestError);

  function accept(s: Suggestion) {
    if (!ctx) return;
    const text = value.slice(0, ctx.start) + s.insert + value.slice(ctx.end);
    pendingCaret.current = ctx.start + s.insert.length;
    setDismissed(!s.reopen);
    onChange(text);
  }

  function onKeyDown(e: KeyboardEvent) {
    if (open && items.length > 0) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = items.length;
        setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
        return;
      }
      if (e.key === 'Tab' || (e.key === 'Enter' && !e.ctrlKey && !e.metaKey)) {
        e.preventDefault();
        accept(items[Math.min(active, items.length - 1)]);
        return;
      }
    }
    if (e.key === 'Escape') {
      setDismissed(true);
      return;
    }
    if (e.key === 'Enter') {
      e.preventDefault();
      setDismissed(true);
      onRun(value);
    }
  }

  function track() {
    const a = area.current;
    if (a) setCaret(a.selectionStart ?? value.length);
  }

  function edit(next: string) {
    onChange(next);
    onRun(next);
  }

  const errIndex = problem?.index ?? null;

  return (
    <div class="qrow">
      <div class="qline">
        <span class="qletter" title={`Query ${letter}`}>
          {letter}
        </span>
        <div class={`qinput-wrap${problem ? ' has-error' : ''}`}>
          <div class="qbackdrop" aria-hidden="true">
            {backdrop(value, errIndex, caret, caretMark)}
          </div>
          <textarea
            ref={area}
            class="qinput"
            rows={1}
            spellcheck={false}
            autocomplete="off"
            aria-label={`Query ${letter}`}
            aria-invalid={problem ? 'true' : undefined}
            placeholder="avg:system.cpu.user{env:prod} by {host}"
            value={value}
            onInput={(e) => {
              setDismissed(false);
              onChange(e.currentTarget.value);
              setCaret(e.currentTarget.selectionStart ?? 0);
            }}
            onKeyDown={onKeyDown}
            onKeyUp={(e) => {
              if (!['ArrowDown', 'ArrowUp', 'Enter', 'Tab', 'Escape'].includes(e.key)) track();
            }}
            onClick={() => {
              setDismissed(false);
              track();
            }}
            onFocus={() => {
              setFocused(true);
              track();
            }}
            onBlur={() => setFocused(false)}
          />
          {open && (
            <ul class="suggest" role="listbox" style={{ left: `${Math.max(0, popupAt.left)}px`, top: `${popupAt.top}px` }}>
              {suggestError && <li class="suggest-error">{suggestError}</li>}
              {items.map((s, i) => (
                <li
                  key={s.label}
                  role="option"
                  aria-selected={i === active}
                  class={i === active ? 'active' : undefined}
                  // mousedown, not click: the text area keeps the focus.
                  onMouseDown={(e) => {
                    e.preventDefault();
                    accept(s);
                  }}
                  onMouseEnter={() => setActive(i)}
                >
                  {s.label}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div class="qpickers">
          <select
            aria-label="Space aggregation"
            title="Space aggregation: how the series of each group are combined"
            disabled={!simple}
            value={simple?.aggr ?? 'avg'}
            onChange={(e) => simple && edit(formatSimple({ ...simple, aggr: e.currentTarget.value }))}
          >
            {SPACE_AGGREGATORS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
          <select
            aria-label="Group by"
            title="Group by a tag key (edit `by {...}` in the query to remove one)"
            disabled={!simple}
            value=""
            onChange={(e) => {
              const k = e.currentTarget.value;
              if (simple && k) edit(formatSimple({ ...simple, by: simple.by.includes(k) ? simple.by.filter((b) => b !== k) : [...simple.by, k] }));
            }}
          >
            <option value="">{simple && simple.by.length ? `by ${simple.by.join(', ')}` : 'group by…'}</option>
            {keys.map((k) => (
              <option key={k} value={k}>
                {simple?.by.includes(k) ? `✓ ${k}` : k}
              </option>
            ))}
          </select>
          <select
            aria-label="Add a function"
            value=""
            disabled={!value.trim()}
            onChange={(e) => {
              const f = FUNCTIONS.find((x) => x.label === e.currentTarget.value);
              if (f) edit(f.apply(value.trim()));
            }}
          >
            <option value="">function…</option>
            {FUNCTIONS.map((f) => (
              <option key={f.label} value={f.label}>
                {f.label}
              </option>
            ))}
          </select>
          {onRemove && (
            <button class="icon" title="Remove this query" aria-label={`Remove query ${letter}`} onClick={onRemove}>
              ×
            </button>
          )}
        </div>
      </div>
      {problem && (
        <div class="qerror" role="alert">
          <div class="qerror-message">{problem.message}</div>
          {problem.index !== null && (
            <pre class="qerror-caret">
              {value}
              {'\n'}
              {' '.repeat(problem.index)}^
            </pre>
          )}
        </div>
      )}
    </div>
  );
}

/** The backdrop's content: the text with the error character marked and an
 *  empty span at the caret. */
function backdrop(text: string, err: number | null, caret: number, caretRef: Ref<HTMLSpanElement>) {
  const out: ComponentChildren[] = [];
  const cuts = [...new Set([0, caret, ...(err !== null ? [err, err + 1] : []), text.length])].sort((a, b) => a - b);
  for (let i = 0; i < cuts.length; i++) {
    const at = cuts[i];
    if (at === caret) out.push(<span key="caret" ref={caretRef} class="qcaret" />);
    const next = cuts[i + 1];
    if (next === undefined) break;
    const piece = text.slice(at, next);
    out.push(at === err ? <mark key="err">{piece || ' '}</mark> : piece);
  }
  if (err !== null && err >= text.length) out.push(<mark key="err-end"> </mark>);
  // A final newline would not be drawn without something after it.
  out.push('\u200b');
  return out;
}

async function suggestionsFor(ctx: Context): Promise<Suggestion[]> {
  switch (ctx.kind) {
    case 'metric': {
      const aggs = ctx.aggregators ? rank(SPACE_AGGREGATORS, ctx.prefix).map((a) => ({ label: `${a}:`, insert: `${a}:` })) : [];
      const names = rank(await metricNames(), ctx.prefix).map((n) => ({ label: n, insert: n }));
      return ctx.prefix ? [...names, ...aggs] : [...aggs, ...names];
    }
    case 'tagKey': {
      if (!ctx.metric) return [];
      const keys = tagKeys(await metricTags(ctx.metric));
      return rank(keys, ctx.prefix).map((k) => ({ label: `${k}:`, insert: `${k}:`, reopen: true }));
    }
    case 'tagValue': {
      if (!ctx.metric) return [];
      const values = tagValues(await metricTags(ctx.metric), ctx.key);
      return rank(values, ctx.prefix).map((v) => ({ label: v, insert: v }));
    }
    case 'groupKey': {
      if (!ctx.metric) return [];
      return rank(tagKeys(await metricTags(ctx.metric)), ctx.prefix).map((k) => ({ label: k, insert: k }));
    }
  }
}

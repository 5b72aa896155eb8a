// Small pieces the monitors, events, hosts and admin pages share: status
// badges and colours, "2 min ago", a debounced value, a two-step confirm
// button, error and loading boxes, and lazy loading of a page's code.

import type { ComponentChildren, ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Status } from '../../lib/monitors-api';
import './common.css';

/** The colour of each status, shared by badges, the timeline and the
 *  events stream. */
export const STATUS_COLOR: Record<string, string> = {
  OK: '#2e9d5b',
  Warn: '#e09100',
  Alert: '#d32f2f',
  'No Data': '#8a94a6',
  Skipped: '#b7bfcc',
  Ignored: '#b7bfcc',
  Unknown: '#b7bfcc',
};

/** A status as a coloured pill. */
export function StatusBadge({ status, small }: { status: Status | string; small?: boolean }) {
  const cls = `status-badge status-${String(status).toLowerCase().replace(/\s+/g, '-')}${small ? ' small' : ''}`;
  return (
    <span class={cls} data-status={status}>
      {status}
    </span>
  );
}

/** Differences smaller than this are "just now": the server's and the
 *  browser's clocks differ by a little, and a time a second ahead is not
 *  "in 1 s". */
const JUST_NOW_MS = 5_000;

/** `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`; `in 5 min` for the
 *  future; `just now` within a few seconds either way. */
export function ago(ms: number, now = Date.now()): string {
  const d = now - ms;
  const a = Math.abs(d);
  if (a < JUST_NOW_MS) return 'just now';
  let s: string;
  if (a < 45_000) s = `${Math.max(1, Math.round(a / 1000))} s`;
  else if (a < 3_600_000) s = `${Math.round(a / 60_000)} min`;
  else if (a < 86_400_000) s = `${Math.round(a / 3_600_000)} h`;
  else s = `${Math.round(a / 86_400_000)} d`;
  return d >= 0 ? `${s} ago` : `in ${s}`;
}

/** Re-renders its component every `everyMs` (for "… ago" texts). */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

/** `value`, once it has not changed for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

/** Calls `f` every `everyMs` while the tab is visible. */
export function useInterval(f: () => void, everyMs: number | null) {
  const latest = useRef(f);
  latest.current = f;
  useEffect(() => {
    if (everyMs === null) return;
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') latest.current();
    }, everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
}

/** A button that asks "Really …?" in place before acting. */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  disabled,
  class: cls,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  class?: string;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button class={cls} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={question}>
      <span class="confirm-q">{question}</span>
      <button
        class="danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button onClick={() => setAsking(false)}>Cancel</button>
    </span>
  );
}

/** A readable error (the server's message), announced to screen readers. */
export function ErrorBox({ message, children }: { message: string | null; children?: ComponentChildren }) {
  if (!message) return null;
  return (
    <div class="error-box" role="alert">
      {message}
      {children}
    </div>
  );
}

/** The tags of a row as chips; `onPick` makes them filter buttons. */
export function TagChips({ tags, onPick, max = 12 }: { tags: string[]; onPick?: (tag: string) => void; max?: number }) {
  const shown = tags.slice(0, max);
  return (
    <span class="tag-chips">
      {shown.map((t) =>
        onPick ? (
          <button key={t} class="tag-chip" title={`Filter by ${t}`} onClick={() => onPick(t)}>
            {t}
          </button>
        ) : (
          <span key={t} class="tag-chip">
            {t}
          </span>
        ),
      )}
      {tags.length > max && (
        <span class="muted small" title={tags.slice(max).join(', ')}>
          +{tags.length - max}
        </span>
      )}
    </span>
  );
}

/** Loads a page's code on first use (a dynamic `import()`), so the first
 *  page's JavaScript stays small; shows "Loading…" meanwhile and the
 *  failure if the chunk cannot be fetched. The page is wrapped in
 *  `.ops-page`, the root every rule of these pages' CSS is scoped to, so
 *  their generic class names (`.field`, `.toolbar`, `h2`) never restyle
 *  another page once loaded. */
export function lazyPage<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  return function Lazy(props: P) {
    const [C, setC] = useState<ComponentType<P> | null>(() => loaded);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (C) return;
      pending ??= load().then((m) => (loaded = m.default));
      pending.then(
        (c) => setC(() => c),
        (e) => {
          pending = null;
          setError(`This page could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
    }, []);
    return (
      <div class="ops-page">
        {C ? (
          <C {...props} />
        ) : (
          <section class="page">{error ? <ErrorBox message={error} /> : <p class="muted">Loading…</p>}</section>
        )}
      </div>
    );
  };
}

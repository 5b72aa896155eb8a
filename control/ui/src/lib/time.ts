// Time ranges of the explorer (and of dashboards later): relative ("the
// past hour", follows now) or absolute (two instants), and how they travel
// in a URL: `range=1h`, or `from=<ms>&to=<ms>`.

export type Range =
  | { kind: 'relative'; span: string; ms: number }
  | { kind: 'absolute'; from: number; to: number };

/** The spans offered as buttons. */
export const PRESETS = ['15m', '1h', '4h', '1d', '1w'];

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const UNIT_NAME: Record<string, string> = { m: 'minute', h: 'hour', d: 'day', w: 'week' };

export const DEFAULT_RANGE: Range = { kind: 'relative', span: '1h', ms: 3_600_000 };

/** `15m`, `4h`, `2d`, `1w` → milliseconds; anything else → null. */
export function parseSpan(s: string): number | null {
  const m = /^(\d{1,4})([mhdw])$/.exec(s.trim());
  return m && Number(m[1]) > 0 ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

export function relative(span: string): Range {
  const ms = parseSpan(span);
  return ms ? { kind: 'relative', span, ms } : DEFAULT_RANGE;
}

/** The instants a range covers now, in milliseconds. */
export function resolve(r: Range, now = Date.now()): { from: number; to: number } {
  return r.kind === 'relative' ? { from: now - r.ms, to: now } : { from: r.from, to: r.to };
}

/** Reads a range from URL parameters (`range`, or `from` and `to`). */
export function rangeFromParams(p: URLSearchParams): Range {
  const from = Number(p.get('from'));
  const to = Number(p.get('to'));
  if (p.has('from') && p.has('to') && Number.isFinite(from) && Number.isFinite(to) && from < to) {
    return { kind: 'absolute', from, to };
  }
  return relative(p.get('range') ?? '1h');
}

/** Writes a range into URL parameters. */
export function rangeToParams(r: Range, p: URLSearchParams) {
  p.delete('range');
  p.delete('from');
  p.delete('to');
  if (r.kind === 'relative') p.set('range', r.span);
  else {
    p.set('from', String(Math.round(r.from)));
    p.set('to', String(Math.round(r.to)));
  }
}

/** A stable key of a range, for effects. */
export function rangeKey(r: Range): string {
  return r.kind === 'relative' ? r.span : `${r.from}-${r.to}`;
}

/** "Past 1 hour", or "2026-11-26 14:00 – 15:30". */
export function describe(r: Range): string {
  if (r.kind === 'relative') {
    const m = /^(\d+)([mhdw])$/.exec(r.span)!;
    const n = Number(m[1]);
    return `Past ${n} ${UNIT_NAME[m[2]]}${n === 1 ? '' : 's'}`;
  }
  const a = formatTime(r.from, false);
  const b = formatTime(r.to, false);
  return a.slice(0, 10) === b.slice(0, 10) ? `${a} – ${b.slice(11)}` : `${a} – ${b}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local time, `2026-11-26 14:05` (with `:20` seconds when asked). */
export function formatTime(ms: number, seconds = true): string {
  const d = new Date(ms);
  const s = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds ? `${s}:${pad(d.getSeconds())}` : s;
}

/** A time axis label, as precise as the span needs: `14:05:30` under five
 *  minutes, `14:05` under two days, `11-26 14:00` beyond. */
export function timeTick(ms: number, spanMs: number): string {
  const full = formatTime(ms, spanMs < 300_000);
  return spanMs < 2 * 86_400_000 ? full.slice(11) : full.slice(5, 16);
}

/** The value of an `<input type="datetime-local">` for an instant. */
export function toLocalInput(ms: number): string {
  return formatTime(ms, false).replace(' ', 'T');
}

/** An instant from an `<input type="datetime-local">` value (local time). */
export function fromLocalInput(s: string): number | null {
  const t = new Date(s).getTime();
  return Number.isFinite(t) ? t : null;
}

// Numbers of query value and top list widgets as Datadog writes them:
// `precision` decimals, `autoscale` to k/M/G/T, and a `custom_unit`.

const SCALES: [number, string][] = [
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** Datadog's default number of decimals of a query value. */
export const DEFAULT_PRECISION = 2;

/** `v` with `precision` decimals, scaled to k/M/... when `autoscale`;
 *  an em dash for no value. */
export function formatNumber(v: number | null, precision = DEFAULT_PRECISION, autoscale = true): string {
  if (v === null || !Number.isFinite(v)) return '—';
  const p = Math.max(0, Math.min(10, Math.round(precision)));
  if (autoscale) {
    const a = Math.abs(v);
    for (const [f, s] of SCALES) if (a >= f) return trimZeros((v / f).toFixed(p)) + s;
  }
  return trimZeros(v.toFixed(p));
}

/** `1.50` → `1.5`, `2.00` → `2` (Datadog drops trailing zeros too). */
function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

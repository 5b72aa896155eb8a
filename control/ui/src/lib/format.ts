// Numbers for people: axis ticks and legend values.

const SI: [number, string][] = [
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** `1234567` → `1.23M`, `0.000123` → `0.000123`, `42` → `42`. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  for (const [f, s] of SI) {
    if (a >= f) return trim((v / f).toPrecision(3)) + s;
  }
  if (a === 0) return '0';
  if (a >= 1) return trim(v.toFixed(a >= 100 ? 1 : 2));
  return trim(v.toPrecision(3));
}

/** `1.50` → `1.5`, `2.00` → `2`. */
function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

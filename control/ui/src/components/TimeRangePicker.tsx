// The time range: preset spans (relative to now), a custom absolute span,
// and the live switch (only for relative ranges: an absolute one does not
// move).

import { useState } from 'preact/hooks';
import { PRESETS, describe, fromLocalInput, relative, resolve, toLocalInput, type Range } from '../lib/time';

export interface TimeRangePickerProps {
  range: Range;
  onChange: (r: Range) => void;
  live: boolean;
  onLive: (live: boolean) => void;
}

export function TimeRangePicker({ range, onChange, live, onLive }: TimeRangePickerProps) {
  const [custom, setCustom] = useState<{ from: string; to: string; error: string | null } | null>(null);

  function openCustom() {
    const { from, to } = resolve(range);
    setCustom({ from: toLocalInput(from), to: toLocalInput(to), error: null });
  }

  function apply(e: Event) {
    e.preventDefault();
    if (!custom) return;
    const from = fromLocalInput(custom.from);
    const to = fromLocalInput(custom.to);
    if (from === null || to === null) return setCustom({ ...custom, error: 'Enter both times.' });
    if (from >= to) return setCustom({ ...custom, error: 'The start must be before the end.' });
    setCustom(null);
    onChange({ kind: 'absolute', from, to });
  }

  return (
    <div class="range-picker">
      <span class="range-label" data-testid="range-label">
        {describe(range)}
      </span>
      <div class="seg" role="group" aria-label="Time range">
        {PRESETS.map((p) => (
          <button
            key={p}
            class={range.kind === 'relative' && range.span === p ? 'on' : undefined}
            aria-pressed={range.kind === 'relative' && range.span === p}
            onClick={() => onChange(relative(p))}
          >
            {p}
          </button>
        ))}
        <button class={range.kind === 'absolute' ? 'on' : undefined} onClick={() => (custom ? setCustom(null) : openCustom())}>
          Custom
        </button>
      </div>
      <label class={`live${live && range.kind === 'relative' ? ' on' : ''}`} title="Refresh every few seconds">
        <input
          type="checkbox"
          checked={live && range.kind === 'relative'}
          disabled={range.kind !== 'relative'}
          onChange={(e) => onLive(e.currentTarget.checked)}
        />
        Live
      </label>
      {custom && (
        <form class="custom-range" onSubmit={apply}>
          <label>
            From
            <input type="datetime-local" value={custom.from} onInput={(e) => setCustom({ ...custom, from: e.currentTarget.value })} />
          </label>
          <label>
            To
            <input type="datetime-local" value={custom.to} onInput={(e) => setCustom({ ...custom, to: e.currentTarget.value })} />
          </label>
          <button type="submit" class="primary">
            Apply
          </button>
          <button type="button" onClick={() => setCustom(null)}>
            Cancel
          </button>
          {custom.error && <span class="error">{custom.error}</span>}
        </form>
      )}
    </div>
  );
}

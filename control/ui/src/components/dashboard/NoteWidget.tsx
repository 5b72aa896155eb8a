// The note widget (and the free text one): text with simple Markdown
// (markdown.tsx) on the note's background colour, font size and alignment.

import type { WidgetDefinition } from '../../lib/dashboards-api';
import { Markdown } from './markdown';

/** Datadog's note backgrounds; any other name is white. */
const BACKGROUNDS = new Set(['white', 'blue', 'purple', 'pink', 'orange', 'yellow', 'red', 'green', 'gray', 'vivid_blue', 'vivid_purple', 'vivid_pink', 'vivid_orange', 'vivid_yellow', 'vivid_red', 'vivid_green', 'transparent']);

export function NoteWidget({ def }: { def: WidgetDefinition }) {
  const bg = typeof def.background_color === 'string' && BACKGROUNDS.has(def.background_color) ? def.background_color : 'white';
  const size = Number(def.font_size);
  const align = def.text_align === 'center' || def.text_align === 'right' ? def.text_align : 'left';
  const valign = def.vertical_align === 'center' || def.vertical_align === 'bottom' ? def.vertical_align : 'top';
  const text = def.type === 'free_text' ? String(def.text ?? '') : String(def.content ?? '');
  const color = def.type === 'free_text' && typeof def.color === 'string' ? def.color : undefined;
  return (
    <div
      class={`note note-bg-${bg} note-v-${valign}${def.has_padding === false ? ' note-tight' : ''}`}
      style={{ fontSize: Number.isFinite(size) && size >= 8 && size <= 72 ? `${size}px` : undefined, textAlign: align, color }}
      data-testid="note"
    >
      <div class="note-text">
        <Markdown src={text} />
      </div>
    </div>
  );
}

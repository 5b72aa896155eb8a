// The small messages a widget shows instead of (or above) its data:
// loading, no data in the window, an error of its query, or a widget type
// that does not render yet.

export type MessageKind = 'loading' | 'empty' | 'error' | 'unsupported';

const TEXT: Record<MessageKind, string> = {
  loading: 'Loading…',
  empty: 'No data in this time range',
  error: 'The query failed',
  unsupported: 'not supported yet',
};

export function WidgetMessage({ kind, text }: { kind: MessageKind; text?: string }) {
  return (
    <div class={`wmsg wmsg-${kind}`} role={kind === 'error' ? 'alert' : undefined} data-testid={`widget-${kind}`}>
      {text ?? TEXT[kind]}
    </div>
  );
}

// A dialog over the page: a title, its content and its buttons. Escape or
// a click on the backdrop closes it (Escape in a text area does not) (`onClose`); the first field takes the
// focus when it opens.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface ModalProps {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  /** Wider, for the widget editor. */
  wide?: boolean;
}

export function Modal({ title, onClose, children, wide }: ModalProps) {
  const box = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;

  useEffect(() => {
    // A field, else the first action (Cancel, never a destructive one).
    const first = box.current?.querySelector<HTMLElement>('input, textarea, select') ?? box.current?.querySelector<HTMLElement>('.modal-actions button');
    first?.focus();
    const key = (e: KeyboardEvent) => {
      // Escape in a query editor closes its suggestions, not the dialog.
      const inText = (e.target as HTMLElement | null)?.closest?.('textarea');
      if (e.key === 'Escape' && !e.defaultPrevented && !inText) close.current();
    };
    document.addEventListener('keydown', key);
    return () => document.removeEventListener('keydown', key);
  }, []);

  return (
    <div
      class="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div class={`modal${wide ? ' modal-wide' : ''}`} role="dialog" aria-modal="true" aria-label={title} ref={box}>
        <div class="modal-head">
          <h2>{title}</h2>
          <button class="icon" aria-label="Close" title="Close" onClick={onClose}>
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

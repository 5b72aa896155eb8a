// Routing by URL path with the history API. The address bar is the state
// of navigation: `navigate()` pushes (or replaces) an entry, the back and
// forward buttons fire `popstate`, and `useLocation()` re-renders its
// component on either. Deep links work because the server answers
// index.html for every path outside /api/.

import { useEffect, useState } from 'preact/hooks';
import type { AnchorHTMLAttributes } from 'preact';

export interface Loc {
  /** `/explorer` */
  path: string;
  /** `?q=...`, or '' */
  search: string;
}

const listeners = new Set<() => void>();

function current(): Loc {
  return { path: window.location.pathname, search: window.location.search };
}

function notify() {
  for (const l of listeners) l();
}

window.addEventListener('popstate', notify);

/** Goes to `to` (a path with an optional query string). */
export function navigate(to: string, opts: { replace?: boolean } = {}) {
  const here = window.location.pathname + window.location.search;
  if (to === here) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  notify();
}

/** The current location; the component re-renders when it changes. */
export function useLocation(): Loc {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = () => setLoc(current());
    listeners.add(l);
    // The location may have moved between the render and this effect.
    l();
    return () => {
      listeners.delete(l);
    };
  }, []);
  return loc;
}

/** The current path and query string, to come back to later. */
export function here(): string {
  return window.location.pathname + window.location.search;
}

/** A link that navigates without reloading the page (a middle click or
 *  ctrl-click still opens a new tab). */
export function Link(props: AnchorHTMLAttributes & { href: string }) {
  const { href, onClick, ...rest } = props;
  return (
    <a
      href={href}
      {...rest}
      onClick={(e) => {
        if (onClick) (onClick as (e: MouseEvent) => void)(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    />
  );
}

// The dashboard of the address the app was opened at, asked for at once:
// while the app checks the session (`GET /api/ui/me`) the dashboard's
// JSON is already on its way, so the widgets' queries start one round
// trip sooner. Only for the first page of a visit; later navigations
// fetch as usual.

import { getDashboard, type Dashboard } from '../../lib/dashboards-api';

let pending: { id: string; answer: Promise<Dashboard> } | null = null;

/** Starts fetching the dashboard at `path` (`/dashboards/<id>`), if any. */
export function prefetchFor(path: string) {
  const m = /^\/dashboards\/([^/]+)$/.exec(path);
  if (!m) return;
  const id = decodeURIComponent(m[1]);
  const answer = getDashboard(id);
  // Not signed in (401) or any other failure: the page asks again and
  // shows that answer; this one is dropped quietly.
  answer.catch(() => {});
  pending = { id, answer };
}

/** The prefetched answer for `id` (once), else a new request. */
export function dashboardFor(id: string, signal: AbortSignal): Promise<Dashboard> {
  const p = pending;
  pending = null;
  if (p && p.id === id) return p.answer.catch(() => getDashboard(id, signal));
  return getDashboard(id, signal);
}

// The Dashboards page: `/dashboards` lists them (pages/dashboards/List),
// `/dashboards/<id>` shows one (pages/dashboards/View, with the widgets,
// the grid and the editor).
//
// The view's code is loaded on demand (a separate chunk, outside the
// first page's JavaScript budget); opening the app at a dashboard's
// address starts loading it, and the dashboard's JSON (prefetch.ts), at
// once, beside the session check, so neither costs an extra round trip.

import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../api';
import type { PageProps } from '.';
import DashboardList from './dashboards/List';
import { prefetchFor } from './dashboards/prefetch';
import './dashboards/dashboards.css';

type ViewModule = { default: ComponentType<{ id: string }> };

let viewModule: Promise<ViewModule> | null = null;
const loadView = () => (viewModule ??= import('./dashboards/View'));

if (window.location.pathname.startsWith('/dashboards/')) {
  loadView();
  prefetchFor(window.location.pathname);
}

export default function Dashboards({ subpath }: PageProps) {
  const id = subpath.split('/')[1] ?? '';
  if (!id) return <DashboardList />;
  return <LazyView id={decodeURIComponent(id)} />;
}

function LazyView({ id }: { id: string }) {
  const [View, setView] = useState<ViewModule['default'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    loadView().then(
      (m) => setView(() => m.default),
      (e) => {
        // A failed load is not kept: the next visit tries again.
        viewModule = null;
        setError(messageOf(e));
      },
    );
  }, []);
  if (error) {
    return (
      <section class="page">
        <p class="error" role="alert">
          Cannot load the dashboard page: {error}. Reload the page to try again.
        </p>
      </section>
    );
  }
  if (!View) return <section class="page muted">Loading…</section>;
  return <View key={id} id={id} />;
}

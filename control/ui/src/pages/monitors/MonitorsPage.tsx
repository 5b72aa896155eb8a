// The monitor pages, by address:
//   /monitors                 the list (filters in the address:
//                             `?name=&tag=&status=`)
//   /monitors/new             the form, empty (`?clone=<id>`: a copy)
//   /monitors/<id>            one monitor: groups, state history, mute,
//                             downtimes
//   /monitors/<id>/edit       the form for monitor <id>

import type { PageProps } from '../index';
import { MonitorDetail } from './MonitorDetail';
import { MonitorForm } from './MonitorForm';
import { MonitorList } from './MonitorList';
import './monitors.css';

export default function MonitorsPage({ subpath }: PageProps) {
  const parts = subpath.split('/').filter(Boolean);
  if (parts.length === 0) return <MonitorList />;
  if (parts.length === 1 && parts[0] === 'new') return <MonitorForm />;
  const id = /^\d+$/.test(parts[0]) ? Number(parts[0]) : null;
  if (id !== null && parts.length === 1) return <MonitorDetail key={id} id={id} />;
  if (id !== null && parts.length === 2 && parts[1] === 'edit') return <MonitorForm key={id} id={id} />;
  return (
    <section class="page">
      <h1>Not found</h1>
      <p class="muted">
        There is no monitor page at <code>/monitors{subpath}</code>.
      </p>
    </section>
  );
}

// The list of dashboards: title (with the description), author, last
// change; search by title; and, for users who may change things, new,
// import (a dashboard's JSON exported from Datadog, pasted or read from a
// file, then `POST /api/v1/dashboard` as it is), clone and delete (after a
// confirmation). The built-in read-only dashboard is listed first and
// cannot be deleted.

import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../../api';
import { Modal } from '../../components/dashboard/Modal';
import { createDashboard, deleteDashboard, listDashboards, type DashboardSummary } from '../../lib/dashboards-api';
import { formatTime } from '../../lib/time';
import { Link, navigate } from '../../router';
import { canEdit, useSession } from '../../session';
import { CloneDialog } from './CloneDialog';

type Dialog = { kind: 'new' } | { kind: 'import' } | { kind: 'clone'; d: DashboardSummary } | { kind: 'delete'; d: DashboardSummary };

/** `2026-11-26T10:00:00.000000+00:00` → local `2026-11-26 11:00`. */
function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? formatTime(t, false) : '';
}

export default function DashboardList() {
  const me = useSession();
  const mayEdit = canEdit(me);
  const [all, setAll] = useState<DashboardSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    listDashboards().then(
      (ds) => {
        setAll(ds);
        setError(null);
      },
      (e) => setError(messageOf(e)),
    );
  }, [reload]);

  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = (all ?? [])
    .filter((d) => words.every((w) => d.title.toLowerCase().includes(w)))
    // The built-in first, then the most recently changed.
    .sort((a, b) => Number(b.is_read_only) - Number(a.is_read_only) || b.modified_at.localeCompare(a.modified_at));

  return (
    <section class="page dashboards">
      <div class="page-head">
        <h1>Dashboards</h1>
        <input type="search" class="dash-search" aria-label="Search dashboards" placeholder="Search by title" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        <span class="spacer" />
        {mayEdit && (
          <>
            <button onClick={() => setDialog({ kind: 'import' })}>Import JSON</button>
            <button class="primary" onClick={() => setDialog({ kind: 'new' })}>
              New dashboard
            </button>
          </>
        )}
      </div>
      {error && (
        <p class="error banner-box" role="alert">
          Cannot list the dashboards: {error}
        </p>
      )}
      <div class="card table-card">
        {all === null && !error ? (
          <p class="muted pad">Loading…</p>
        ) : shown.length === 0 ? (
          <p class="muted pad">{all && all.length ? `No dashboard has "${search}" in its title.` : 'No dashboards yet.'}</p>
        ) : (
          <table class="dash-table">
            <thead>
              <tr>
                <th>Title</th>
                <th>Author</th>
                <th>Modified</th>
                {mayEdit && <th class="actions-col" aria-label="Actions" />}
              </tr>
            </thead>
            <tbody>
              {shown.map((d) => (
                <tr key={d.id} data-id={d.id}>
                  <td>
                    <Link href={`/dashboards/${encodeURIComponent(d.id)}`} class="dash-link">
                      {d.title}
                    </Link>
                    {d.is_read_only && <span class="badge">built-in · read-only</span>}
                    {d.description && <div class="muted dash-row-desc">{d.description}</div>}
                  </td>
                  <td class="muted">{d.author_handle}</td>
                  <td class="muted nowrap">{when(d.modified_at)}</td>
                  {mayEdit && (
                    <td class="row-actions">
                      <button class="small" aria-label={`Clone ${d.title}`} onClick={() => setDialog({ kind: 'clone', d })}>
                        Clone
                      </button>
                      {!d.is_read_only && (
                        <button class="small danger" aria-label={`Delete ${d.title}`} onClick={() => setDialog({ kind: 'delete', d })}>
                          Delete
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {dialog?.kind === 'new' && <NewDialog onClose={() => setDialog(null)} />}
      {dialog?.kind === 'import' && <ImportDialog onClose={() => setDialog(null)} />}
      {dialog?.kind === 'clone' && <CloneDialog dash={dialog.d} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'delete' && (
        <DeleteDialog
          d={dialog.d}
          onClose={(deleted) => {
            setDialog(null);
            if (deleted) setReload((n) => n + 1);
          }}
        />
      )}
    </section>
  );
}

/** A new, empty dashboard, opened in edit mode. */
function NewDialog({ onClose }: { onClose: () => void }) {
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    try {
      const d = await createDashboard({ title: title.trim(), description: '', layout_type: 'ordered', reflow_type: 'fixed', widgets: [], template_variables: [] });
      onClose();
      navigate(`/dashboards/${encodeURIComponent(d.id)}?edit=1`);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }
  return (
    <Modal title="New dashboard" onClose={onClose}>
      <form class="modal-form" onSubmit={submit}>
        <label class="field">
          Title
          <input type="text" value={title} placeholder="Checkout service" onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="modal-actions">
          <span class="spacer" />
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || !title.trim()}>
            Create
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** A dashboard's JSON (Datadog's "Export dashboard JSON") created as it
 *  is. */
function ImportDialog({ onClose }: { onClose: () => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return setError(`This is not JSON: ${messageOf(err)}`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return setError('The JSON must be one dashboard (an object with a title and widgets).');
    setBusy(true);
    setError(null);
    try {
      const d = await createDashboard(body as Record<string, unknown>);
      onClose();
      navigate(`/dashboards/${encodeURIComponent(d.id)}`);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }
  async function readFile(e: Event) {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    if (f) setText(await f.text());
  }
  return (
    <Modal title="Import a dashboard" onClose={onClose} wide>
      <form class="modal-form" onSubmit={submit}>
        <p class="muted">
          Paste a dashboard's JSON (in Datadog: the dashboard's settings, "Export dashboard JSON"), or pick the file. Every widget is kept; see which
          types draw in the README.
        </p>
        <textarea class="json-box" aria-label="Dashboard JSON" rows={16} spellcheck={false} value={text} placeholder='{"title": "...", "layout_type": "ordered", "widgets": [...]}' onInput={(e) => setText(e.currentTarget.value)} />
        <input type="file" accept=".json,application/json" aria-label="Dashboard JSON file" onChange={readFile} />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="modal-actions">
          <span class="spacer" />
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || !text.trim()}>
            {busy ? 'Importing…' : 'Import'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function DeleteDialog({ d, onClose }: { d: DashboardSummary; onClose: (deleted: boolean) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function confirm() {
    setBusy(true);
    try {
      await deleteDashboard(d.id);
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }
  return (
    <Modal title="Delete dashboard" onClose={() => onClose(false)}>
      <p>
        Delete <strong>{d.title}</strong>? It is gone at once; there is no trash to restore it from.
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="modal-actions">
        <span class="spacer" />
        <button type="button" onClick={() => onClose(false)}>
          Cancel
        </button>
        <button type="button" class="primary danger" disabled={busy} onClick={confirm}>
          {busy ? 'Deleting…' : 'Delete'}
        </button>
      </div>
    </Modal>
  );
}

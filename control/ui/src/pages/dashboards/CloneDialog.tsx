// Clone: asks for the copy's title, reads the dashboard, creates the copy
// (editable, `is_read_only: false`, even of the built-in one) and opens it.

import { useState } from 'preact/hooks';
import { messageOf } from '../../api';
import { Modal } from '../../components/dashboard/Modal';
import { copyOf, createDashboard, getDashboard } from '../../lib/dashboards-api';
import { navigate } from '../../router';

export function CloneDialog({ dash, onClose }: { dash: { id: string; title: string }; onClose: () => void }) {
  const [title, setTitle] = useState(`${dash.title} (copy)`);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const made = await createDashboard(copyOf(await getDashboard(dash.id), title.trim()));
      onClose();
      navigate(`/dashboards/${encodeURIComponent(made.id)}`);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <Modal title={`Clone "${dash.title}"`} onClose={onClose}>
      <form onSubmit={submit} class="modal-form">
        <label class="field">
          Title of the copy
          <input type="text" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
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
            {busy ? 'Cloning…' : 'Clone'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

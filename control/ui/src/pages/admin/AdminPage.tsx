// The admin page (`/admin`, admins only; the server refuses others too):
// the org's users (create with a role and a password, change the role,
// reset the password, disable or enable, delete) and its API and
// application keys (create one and show its secret this once with a copy
// button, revoke with a confirmation). An admin cannot disable, delete or
// demote themself (the server's rule); their own row says so.

import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { messageOf, type Role } from '../../api';
import { ConfirmButton, ErrorBox, ago, useNow } from '../../components/monitors/common';
import { ROLES, createKey, createUser, deleteUser, listKeys, listUsers, revokeKey, updateUser, type AdminUser, type ApiKeyInfo } from '../../lib/admin-api';
import { formatTime } from '../../lib/time';
import { useSession } from '../../session';
import './admin.css';

/** The server's minimum password length (users_api/password.rs). */
const MIN_PASSWORD = 8;

export default function AdminPage() {
  const me = useSession();
  if (me.user.role !== 'admin') {
    return (
      <section class="page">
        <h1>Admin</h1>
        <p class="notice-box">Only admins manage users and keys.</p>
      </section>
    );
  }
  return (
    <section class="page admin">
      <div class="page-head">
        <h1>Admin</h1>
        <span class="muted">Users and keys of the org {me.org.name}</span>
      </div>
      <Users myId={me.user.id} />
      <Keys />
    </section>
  );
}

/** A random password of 16 letters and digits (about 95 bits). */
function generatePassword(): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

function roleLabel(r: Role): string {
  return ROLES.find((x) => x.role === r)?.label ?? r;
}

function Users({ myId }: { myId: number }) {
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [resetting, setResetting] = useState<number | null>(null);
  const now = useNow(30_000);

  const load = () =>
    listUsers().then(
      (u) => setUsers(u),
      (e) => setError(messageOf(e)),
    );
  useEffect(() => {
    load();
  }, []);

  async function act(f: () => Promise<unknown>, done?: string) {
    setError(null);
    setNotice(null);
    try {
      await f();
      if (done) setNotice(done);
      return true;
    } catch (e) {
      setError(messageOf(e));
      return false;
    } finally {
      // Also after a refusal: the row shows what the server has.
      await load();
    }
  }

  return (
    <div class="card table-card admin-section" aria-label="Users">
      <div class="section-bar">
        <h2>
          Users{users && <span class="count">{users.length}</span>}
        </h2>
        {!adding && (
          <button class="primary" onClick={() => setAdding(true)}>
            + Add user
          </button>
        )}
      </div>
      <div class="section-msgs">
        <ErrorBox message={error} />
        {notice && (
          <div class="ok-box" role="status">
            {notice}
          </div>
        )}
      </div>
      {adding && (
        <NewUserForm
          onCancel={() => setAdding(false)}
          onCreate={async (u) => {
            if (await act(() => createUser(u), `Created ${u.email} (${roleLabel(u.role)}).`)) setAdding(false);
          }}
        />
      )}
      {users === null ? (
        <p class="muted pad">Loading…</p>
      ) : (
        <table class="list" data-testid="users">
          <thead>
            <tr>
              <th>Name</th>
              <th>E-mail</th>
              <th>Role</th>
              <th>Status</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => {
              const self = u.id === myId;
              return (
                <Fragment key={u.id}>
                  <tr data-email={u.email} class={u.disabled ? 'disabled-row' : undefined}>
                    <td>
                      {u.name}
                      {self && <span class="you">you</span>}
                    </td>
                    <td>{u.email}</td>
                    <td>
                      <select
                        aria-label={`Role of ${u.email}`}
                        value={u.role}
                        disabled={self}
                        title={self ? 'You cannot change your own role' : undefined}
                        onChange={(e) => {
                          const role = e.currentTarget.value as Role;
                          act(() => updateUser(u.id, { role }), `${u.email} is now ${roleLabel(role)}.`);
                        }}
                      >
                        {ROLES.map((r) => (
                          <option key={r.role} value={r.role} title={r.what}>
                            {r.label}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>{u.disabled ? <span class="pill off">disabled</span> : <span class="pill on">active</span>}</td>
                    <td class="muted nowrap" title={formatTime(u.created_at)}>
                      {ago(u.created_at, now)}
                    </td>
                    <td class="row-actions">
                      <button onClick={() => setResetting(resetting === u.id ? null : u.id)}>Reset password</button>
                      {!self && (
                        <button onClick={() => act(() => updateUser(u.id, { disabled: !u.disabled }), `${u.email} is ${u.disabled ? 'enabled' : 'disabled'}.`)}>
                          {u.disabled ? 'Enable' : 'Disable'}
                        </button>
                      )}
                      {!self && (
                        <ConfirmButton
                          class="danger"
                          label="Delete"
                          question={`Delete ${u.email}?`}
                          confirmLabel="Delete"
                          onConfirm={() => act(() => deleteUser(u.id), `Deleted ${u.email}.`)}
                        />
                      )}
                    </td>
                  </tr>
                  {resetting === u.id && (
                    <tr class="inline-form-row">
                      <td colSpan={6}>
                        <PasswordForm
                          email={u.email}
                          self={self}
                          onCancel={() => setResetting(null)}
                          onSet={async (password) => {
                            if (await act(() => updateUser(u.id, { password }), `New password set for ${u.email}${self ? '' : ' (signed out everywhere)'}.`))
                              setResetting(null);
                          }}
                        />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function PasswordField({ value, onChange, label }: { value: string; onChange: (v: string) => void; label: string }) {
  const [show, setShow] = useState(false);
  return (
    <label class="field">
      <span>{label}</span>
      <div class="inline">
        <input
          type={(show ? 'text' : 'password') as 'text'}
          autocomplete="new-password"
          minLength={MIN_PASSWORD}
          required
          value={value}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
        <button
          type="button"
          onClick={() => {
            onChange(generatePassword());
            setShow(true);
          }}
        >
          Generate
        </button>
      </div>
      <span class="hint">At least {MIN_PASSWORD} characters.</span>
    </label>
  );
}

function NewUserForm({ onCreate, onCancel }: { onCreate: (u: { email: string; name: string; role: Role; password: string }) => void; onCancel: () => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('standard');
  const [password, setPassword] = useState('');
  return (
    <form
      class="inline-form"
      aria-label="New user"
      onSubmit={(e) => {
        e.preventDefault();
        onCreate({ email: email.trim(), name: name.trim() || email.trim(), role, password });
      }}
    >
      <label class="field">
        <span>E-mail</span>
        <input type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Name</span>
        <input type="text" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Role</span>
        <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
          {ROLES.map((r) => (
            <option key={r.role} value={r.role}>
              {r.label} — {r.what}
            </option>
          ))}
        </select>
      </label>
      <PasswordField label="Password" value={password} onChange={setPassword} />
      <div class="form-actions">
        <button type="submit" class="primary">
          Create user
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function PasswordForm({ email, self, onSet, onCancel }: { email: string; self: boolean; onSet: (p: string) => void; onCancel: () => void }) {
  const [password, setPassword] = useState('');
  return (
    <form
      class="inline-form"
      aria-label={`New password for ${email}`}
      onSubmit={(e) => {
        e.preventDefault();
        onSet(password);
      }}
    >
      <PasswordField label={`New password for ${email}`} value={password} onChange={setPassword} />
      <div class="form-actions">
        <button type="submit" class="primary">
          Set password
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {!self && <p class="muted small grow">They are signed out of every session and sign in again with it.</p>}
    </form>
  );
}

function Keys() {
  const [keys, setKeys] = useState<ApiKeyInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [kind, setKind] = useState<'api' | 'app'>('api');
  const [name, setName] = useState('');
  const [secret, setSecret] = useState<(ApiKeyInfo & { key: string }) | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const now = useNow(30_000);

  const load = () =>
    listKeys().then(
      (k) => setKeys(k),
      (e) => setError(messageOf(e)),
    );
  useEffect(() => {
    load();
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    setError(null);
    setCopied(null);
    try {
      const k = await createKey(kind, name.trim() || (kind === 'api' ? 'API key' : 'Application key'));
      setSecret(k);
      setName('');
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  }

  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('Copying is not allowed here: select the key and copy it.');
    }
  }

  async function revoke(k: ApiKeyInfo) {
    setError(null);
    try {
      await revokeKey(k.id);
      if (secret?.id === k.id) setSecret(null);
      await load();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  const shown = (keys ?? []).filter((k) => showRevoked || k.revoked_at === null);
  const revokedCount = (keys ?? []).filter((k) => k.revoked_at !== null).length;
  return (
    <div class="card table-card admin-section" aria-label="Keys">
      <div class="section-bar">
        <h2>
          API and application keys{keys && <span class="count">{keys.length - revokedCount}</span>}
        </h2>
        {revokedCount > 0 && (
          <label class="check small">
            <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.currentTarget.checked)} />
            Show {revokedCount} revoked
          </label>
        )}
      </div>
      <p class="muted small pad-x">
        Clients send an API key (<code>DD-API-KEY</code>) to send data, and both keys (with <code>DD-APPLICATION-KEY</code>) to read and
        configure.
      </p>
      <form class="inline-form" aria-label="New key" onSubmit={create}>
        <label class="field">
          <span>Kind</span>
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as 'api' | 'app')}>
            <option value="api">API key</option>
            <option value="app">Application key</option>
          </select>
        </label>
        <label class="field grow">
          <span>Name</span>
          <input type="text" placeholder="what uses it, e.g. web-1 agent" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <div class="form-actions">
          <button type="submit" class="primary">
            Create key
          </button>
        </div>
      </form>
      <div class="section-msgs">
        <ErrorBox message={error} />
        {secret && (
          <div class="secret-box" data-testid="new-key">
            <div>
              <b>
                {secret.kind === 'api' ? 'API' : 'Application'} key “{secret.name}” created.
              </b>{' '}
              Copy it now: it is not shown again.
            </div>
            <div class="secret-line">
              <code class="secret" data-testid="secret">
                {secret.key}
              </code>
              <button class="primary" onClick={() => copy(secret.key)}>
                Copy
              </button>
              <button onClick={() => setSecret(null)}>Done</button>
            </div>
            {copied && <div class="small muted">{copied}</div>}
          </div>
        )}
      </div>
      {keys === null ? (
        <p class="muted pad">Loading…</p>
      ) : shown.length === 0 ? (
        <p class="muted pad">No key.</p>
      ) : (
        <table class="list" data-testid="keys">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Name</th>
              <th>Key</th>
              <th>Created</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((k) => (
              <tr key={k.id} data-key-id={k.id} class={k.revoked_at !== null ? 'disabled-row' : undefined}>
                <td class="nowrap">{k.kind === 'api' ? 'API' : 'Application'}</td>
                <td>{k.name}</td>
                <td>
                  <code>••••{k.last4}</code>
                </td>
                <td class="muted nowrap" title={formatTime(k.created_at)}>
                  {ago(k.created_at, now)}
                </td>
                <td class="nowrap">
                  {k.revoked_at === null ? <span class="pill on">active</span> : <span class="pill off">revoked {formatTime(k.revoked_at, false)}</span>}
                </td>
                <td class="row-actions">
                  {k.revoked_at === null && (
                    <ConfirmButton
                      class="danger"
                      label="Revoke"
                      question={`Revoke ••••${k.last4}? Clients using it are refused.`}
                      confirmLabel="Revoke"
                      onConfirm={() => revoke(k)}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

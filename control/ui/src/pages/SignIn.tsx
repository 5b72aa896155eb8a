// The sign-in page: e-mail and password, `POST /api/ui/login`. The server's
// message is shown as it is ("Wrong e-mail or password"). On success the
// shell takes the user where they wanted to go (`?next=`). After a session
// ended under the user (`expired`), it says so.

import { useState } from 'preact/hooks';
import { login, messageOf, type Me } from '../api';

export default function SignIn({ onSignedIn, expired }: { onSignedIn: (me: Me) => void; expired?: boolean }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await login(email.trim(), password));
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <main class="signin">
      <form class="signin-box" onSubmit={submit}>
        <div class="brand brand-large">Whippet</div>
        <h1>Sign in</h1>
        {expired && !error && <p class="notice">Your session has ended. Sign in again to go back where you were.</p>}
        <label>
          E-mail
          <input
            type="email"
            name="email"
            autocomplete="username"
            required
            autofocus
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

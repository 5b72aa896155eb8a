// The app shell: who is signed in, the sign-in page, the nav bar and the
// page of the current path.
//
// On load the shell asks `GET /api/ui/me`. Signed out (401), or when any
// later call answers 401, it shows the sign-in page at `/signin?next=<the
// address>` and returns there after signing in.

import { useEffect, useState } from 'preact/hooks';
import { logout, me, messageOf, setUnauthorizedHandler, type Me } from './api';
import { Link, here, navigate, useLocation } from './router';
import { SessionContext } from './session';
import { HOME, pageFor, pages } from './pages';
import SignIn from './pages/SignIn';

type State = { kind: 'loading' } | { kind: 'signed-out'; expired?: boolean } | { kind: 'in'; me: Me } | { kind: 'error'; message: string };

const SIGN_IN = '/signin';

/** The sign-in address that comes back to `to` afterwards. */
function signInFor(to: string): string {
  return to === '/' || to.startsWith(SIGN_IN) ? SIGN_IN : `${SIGN_IN}?next=${encodeURIComponent(to)}`;
}

/** Where to go after signing in: `next`, if it is a path of this app. */
function nextTarget(search: string): string {
  const next = new URLSearchParams(search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : HOME;
}

export function App() {
  const loc = useLocation();
  const [state, setState] = useState<State>({ kind: 'loading' });

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setState((s) => ({ kind: 'signed-out', expired: s.kind === 'in' }));
      if (window.location.pathname !== SIGN_IN) navigate(signInFor(here()), { replace: true });
    });
    me()
      .then((m) => setState({ kind: 'in', me: m }))
      .catch((e) => {
        if ((e as { status?: number }).status === 401) setState({ kind: 'signed-out' });
        else setState({ kind: 'error', message: messageOf(e) });
      });
  }, []);

  // Addresses that depend on the state: signed out anywhere → sign-in;
  // signed in at the sign-in page or at / → where the user was going.
  useEffect(() => {
    if (state.kind === 'signed-out' && loc.path !== SIGN_IN) {
      navigate(signInFor(loc.path + loc.search), { replace: true });
    } else if (state.kind === 'in' && (loc.path === SIGN_IN || loc.path === '/')) {
      navigate(loc.path === SIGN_IN ? nextTarget(loc.search) : HOME, { replace: true });
    }
  }, [state.kind, loc.path, loc.search]);

  if (state.kind === 'loading') return <div class="splash muted">Loading…</div>;
  if (state.kind === 'error') {
    return (
      <main class="signin">
        <div class="signin-box">
          <div class="brand brand-large">Whippet</div>
          <p class="error" role="alert">
            {state.message}
          </p>
          <button onClick={() => window.location.reload()}>Try again</button>
        </div>
      </main>
    );
  }
  if (state.kind === 'signed-out') {
    return <SignIn expired={state.expired} onSignedIn={(m) => setState({ kind: 'in', me: m })} />;
  }
  return (
    <SessionContext.Provider value={state.me}>
      <Shell me={state.me} path={loc.path} onSignedOut={() => setState({ kind: 'signed-out' })} />
    </SessionContext.Provider>
  );
}

function Shell({ me: m, path, onSignedOut }: { me: Me; path: string; onSignedOut: () => void }) {
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const found = pageFor(path);
  const Page = found?.page.component;

  async function signOut() {
    try {
      await logout();
      onSignedOut();
      navigate(SIGN_IN, { replace: true });
    } catch (e) {
      setSignOutError(messageOf(e));
    }
  }

  return (
    <div class="shell">
      <header class="topbar">
        <Link href={HOME} class="brand">
          Whippet
        </Link>
        <nav>
          {pages
            .filter((p) => !p.adminOnly || m.user.role === 'admin')
            .map((p) => (
              <Link key={p.path} href={p.path} class={found?.page === p ? 'active' : undefined}>
                {p.title}
              </Link>
            ))}
        </nav>
        <div class="whoami">
          <span class="user-name" title={m.user.email}>
            {m.user.name}
          </span>
          <span class={`role role-${m.user.role}`}>{m.user.role.replace('_', '-')}</span>
          <button class="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      {signOutError && (
        <p class="error banner" role="alert">
          Signing out failed: {signOutError}
        </p>
      )}
      {Page ? (
        <Page key={found.page.path} subpath={found.subpath} />
      ) : path === '/' || path === SIGN_IN ? null : (
        <section class="page">
          <h1>Not found</h1>
          <p class="muted">
            There is no page at <code>{path}</code>. <Link href={HOME}>Go to the explorer</Link>.
          </p>
        </section>
      )}
    </div>
  );
}

// The signed-in user, for any component: `useSession()`. Set by the app
// shell (app.tsx) after sign-in or `GET /api/ui/me`.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me } from './api';

export const SessionContext = createContext<Me | null>(null);

/** The signed-in user and org. Only pages inside the shell call it, so it
 *  is never null there. */
export function useSession(): Me {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

/** Whether the user may change things (the server enforces it too). */
export function canEdit(s: Me): boolean {
  return s.user.role !== 'read_only';
}

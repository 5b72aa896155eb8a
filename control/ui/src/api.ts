// The API client: every call the UI makes to Whippet goes through `api()`.
//
// - Authentication is the session cookie (`whippet_session`, HttpOnly), sent
//   by the browser; the client never sees or stores a key.
// - Every call but GET/HEAD carries `X-Whippet-UI: 1`: the server refuses
//   cookie-authenticated changes without it (a cross-site request cannot set
//   a custom header), so a forged form post from another site does nothing.
// - A 401 from any call means the session is gone (expired, signed out in
//   another tab, user disabled): the app goes back to its sign-in page and
//   keeps the address the user was on, to return there after signing in.
//   Only the sign-in call itself and the first "who am I" look at their 401
//   (`quiet401`). A 403 may mean the same (Datadog's APIs answer 403 to a
//   request without valid credentials): the client then asks
//   `GET /api/ui/me`, and a 401 there goes to sign-in too.
// - Errors are never swallowed: `ApiError.message` is the server's own text
//   (Datadog's `{"errors": [...]}` bodies joined), or a plain sentence for a
//   network failure or a body that is not JSON. Callers show it.

/** An error answer of the server, or a failure to reach it. */
export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The server's messages (Datadog's `errors` array). */
  readonly messages: string[];

  constructor(status: number, messages: string[]) {
    super(messages.join('; '));
    this.name = 'ApiError';
    this.status = status;
    this.messages = messages;
  }
}

/** Query-string parameters; `undefined` ones are left out. */
export type Params = Record<string, string | number | boolean | undefined>;

export interface CallOptions {
  params?: Params;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
  /** Hand a 401 to the caller instead of going to the sign-in page. */
  quiet401?: boolean;
}

let onUnauthorized: () => void = () => {};

/** Sets what a 401 does (the app shell: show the sign-in page). */
export function setUnauthorizedHandler(f: () => void) {
  onUnauthorized = f;
}

/** Builds `/path?k=v&...`. */
export function url(path: string, params?: Params): string {
  if (!params) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Calls the API; resolves to the parsed JSON body (undefined for 204). */
export async function api<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-Whippet-UI'] = '1';
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(url(path, opts.params), {
      method,
      headers,
      body,
      signal: opts.signal,
      credentials: 'same-origin',
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, [`Cannot reach Whippet: ${e instanceof Error ? e.message : String(e)}`]);
  }
  if (res.status === 401 && !opts.quiet401) onUnauthorized();
  if (res.status === 403 && !opts.quiet401) confirmSession();
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: a proxy's error page, for instance. Shown as text below.
  }
  if (!res.ok) throw new ApiError(res.status, errorMessages(res, json, text));
  return json as T;
}

let checking: Promise<void> | null = null;

/** After a 403: goes to sign-in if the session is gone (one check at a
 *  time). */
function confirmSession() {
  checking ??= fetch('/api/ui/me', { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
    .then((r) => {
      if (r.status === 401) onUnauthorized();
    })
    // Unreachable: the 403 itself is still shown by its caller.
    .catch(() => {})
    .finally(() => {
      checking = null;
    });
}

/** The readable messages of an error answer. */
function errorMessages(res: Response, json: unknown, text: string): string[] {
  const errs = (json as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(errs) && errs.length > 0) {
    return errs.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  }
  const snippet = text.trim().slice(0, 200);
  const head = `${res.status} ${res.statusText || 'error'}`.trim();
  return [snippet && !snippet.startsWith('<') ? `${head}: ${snippet}` : head];
}

export const get = <T>(path: string, params?: Params, signal?: AbortSignal) =>
  api<T>('GET', path, { params, signal });
export const post = <T>(path: string, body?: unknown, params?: Params) =>
  api<T>('POST', path, { body, params });
export const put = <T>(path: string, body?: unknown, params?: Params) =>
  api<T>('PUT', path, { body, params });
export const del = <T>(path: string, params?: Params) => api<T>('DELETE', path, { params });

/** The message to show for any thrown value. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** True for the rejection of a call whose signal was aborted. */
export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

// ---- The UI API (users, sessions): see the contract in the users module.

export type Role = 'admin' | 'standard' | 'read_only';

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
}

export interface Org {
  id: number;
  name: string;
}

/** The answer of login and `GET /api/ui/me`. */
export interface Me {
  user: User;
  org: Org;
}

export const login = (email: string, password: string) =>
  api<Me>('POST', '/api/ui/login', { body: { email, password }, quiet401: true });
export const logout = () => api<void>('POST', '/api/ui/logout', { quiet401: true });
export const me = () => api<Me>('GET', '/api/ui/me', { quiet401: true });

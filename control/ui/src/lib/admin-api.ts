// The admin page's calls: users and keys (`/api/ui/users`, `/api/ui/keys`,
// admin only; see control/whippet/src/server/users_api.rs).

import { del, get, post, put, type Role } from '../api';

export interface AdminUser {
  id: number;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  /** Unix ms. */
  created_at: number;
}

export interface ApiKeyInfo {
  id: number;
  kind: 'api' | 'app';
  name: string;
  last4: string;
  created_at: number;
  /** Unix ms; null while the key works. */
  revoked_at: number | null;
}

export const ROLES: { role: Role; label: string; what: string }[] = [
  { role: 'admin', label: 'Admin', what: 'everything, and users and keys' },
  { role: 'standard', label: 'Standard', what: 'reads and changes monitors, dashboards, …' },
  { role: 'read_only', label: 'Read-only', what: 'reads, changes nothing' },
];

export const listUsers = () => get<{ users: AdminUser[] }>('/api/ui/users').then((r) => r.users ?? []);

export const createUser = (u: { email: string; name: string; role: Role; password: string }) => post<AdminUser>('/api/ui/users', u);

export const updateUser = (id: number, patch: Partial<{ name: string; role: Role; password: string; disabled: boolean }>) =>
  put<AdminUser>(`/api/ui/users/${id}`, patch);

export const deleteUser = (id: number) => del<void>(`/api/ui/users/${id}`);

export const listKeys = () => get<{ keys: ApiKeyInfo[] }>('/api/ui/keys').then((r) => r.keys ?? []);

/** Creates a key; the answer's `key` is the secret, shown this once. */
export const createKey = (kind: 'api' | 'app', name: string) => post<ApiKeyInfo & { key: string }>('/api/ui/keys', { kind, name });

export const revokeKey = (id: number) => del<void>(`/api/ui/keys/${id}`);

// The Admin page (users and keys), loaded on first visit (see
// admin/AdminPage.tsx).

import { lazyPage } from '../components/monitors/common';
import type { PageProps } from './index';

export default lazyPage<PageProps>(() => import('./admin/AdminPage'));

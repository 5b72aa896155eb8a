// The Hosts page, loaded on first visit (see hosts/HostsPage.tsx).

import { lazyPage } from '../components/monitors/common';
import type { PageProps } from './index';

export default lazyPage<PageProps>(() => import('./hosts/HostsPage'));

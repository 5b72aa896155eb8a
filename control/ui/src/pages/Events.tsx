// The Events page, loaded on first visit (see events/EventsPage.tsx).

import { lazyPage } from '../components/monitors/common';
import type { PageProps } from './index';

export default lazyPage<PageProps>(() => import('./events/EventsPage'));

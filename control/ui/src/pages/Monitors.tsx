// The Monitors page: its code (the list, the form with its live chart,
// the detail with the state timeline) is loaded on first visit, so the
// first page of the app stays small. See monitors/MonitorsPage.tsx.

import { lazyPage } from '../components/monitors/common';
import type { PageProps } from './index';

export default lazyPage<PageProps>(() => import('./monitors/MonitorsPage'));

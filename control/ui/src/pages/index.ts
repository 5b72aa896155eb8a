// The pages of the app shell, in nav order. A page is one file under
// pages/ exporting a component; adding one is a line here. A page serves
// its path and every path under it (`/dashboards/12` goes to Dashboards,
// with `subpath` "/12").

import type { ComponentType } from 'preact';
import Explorer from './Explorer';
import Dashboards from './Dashboards';
import Monitors from './Monitors';
import Events from './Events';
import Hosts from './Hosts';
import Admin from './Admin';

export interface PageProps {
  /** The part of the path after the page's own, '' or `/...`. */
  subpath: string;
}

export interface PageDef {
  path: string;
  title: string;
  component: ComponentType<PageProps>;
  /** Shown in the nav only to admins (the server checks too). */
  adminOnly?: boolean;
}

export const pages: PageDef[] = [
  { path: '/explorer', title: 'Explorer', component: Explorer },
  { path: '/dashboards', title: 'Dashboards', component: Dashboards },
  { path: '/monitors', title: 'Monitors', component: Monitors },
  { path: '/events', title: 'Events', component: Events },
  { path: '/hosts', title: 'Hosts', component: Hosts },
  { path: '/admin', title: 'Admin', component: Admin, adminOnly: true },
];

/** Where `/` and a fresh sign-in go. */
export const HOME = '/explorer';

/** The page serving `path`, and the rest of the path. */
export function pageFor(path: string): { page: PageDef; subpath: string } | null {
  for (const page of pages) {
    if (path === page.path || path.startsWith(page.path + '/')) {
      return { page, subpath: path.slice(page.path.length) };
    }
  }
  return null;
}

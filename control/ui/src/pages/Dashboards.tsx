// The Dashboards page. A placeholder until it is built.

import { Placeholder } from '../components/Placeholder';

export default function Dashboards() {
  return <Placeholder title="Dashboards" what="list, create and edit dashboards." />;
}

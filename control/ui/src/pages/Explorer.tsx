// The metric explorer. Being built.

import { Placeholder } from '../components/Placeholder';

export default function Explorer() {
  return <Placeholder title="Explorer" what="the metric explorer." />;
}

// The Events page. A placeholder until it is built.

import { Placeholder } from '../components/Placeholder';

export default function Events() {
  return <Placeholder title="Events" what="the event stream, with monitor transitions." />;
}

// The Hosts page. A placeholder until it is built.

import { Placeholder } from '../components/Placeholder';

export default function Hosts() {
  return <Placeholder title="Hosts" what="every host that sent data, with its tags and last seen time." />;
}

// The Admin page. A placeholder until it is built.

import { Placeholder } from '../components/Placeholder';

export default function Admin() {
  return <Placeholder title="Admin" what="users and API/application keys." />;
}

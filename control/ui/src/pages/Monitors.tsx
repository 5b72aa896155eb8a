// The Monitors page. A placeholder until it is built.

import { Placeholder } from '../components/Placeholder';

export default function Monitors() {
  return <Placeholder title="Monitors" what="the monitors with their status, and a form to create and edit them." />;
}

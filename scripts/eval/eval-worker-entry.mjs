// Worker threads on Node 20 do not inherit tsx from --import: register it here, then load the TS worker.
import { register } from 'tsx/esm/api';

register();
await import('./eval-worker.ts');

// Plain-JS entry of slot worker threads. Loader hooks of the parent thread do not reach a worker
// on Node 20, so the TypeScript loader is registered here before the worker's module is imported.
import { register } from 'tsx/esm/api';

register();
await import('./slot-worker.ts');

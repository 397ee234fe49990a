// Plain-JS entry of slot worker threads: the TypeScript loader is active via execArgv, so the
// worker's TypeScript module can be imported from here.
import './slot-worker.ts';

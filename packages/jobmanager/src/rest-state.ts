import type { Key } from '@nimble/api';
import { ensureError, stateValueToJson } from '@nimble/runtime';
import type { IncomingMessage } from 'node:http';
import type { JobMaster } from './job-master.js';
import { checkLookupKey, parseStateQueryMode, queryState } from './queryable-state.js';
import { RestError } from './rest-error.js';
import { readBody } from './rest-jars.js';
import { HTTP_STATUS_OF, MAX_KEYS_PER_LOOKUP, StateQueryError } from './state-query.js';

/** Seconds a client waits before it retries a 503 answer of a lookup. */
const RETRY_AFTER_SECONDS = 1;

/** The key types of `GET /jobs/:id/state/:name?key=K&keyType=T`. */
const KEY_TYPES = ['string', 'number', 'bigint', 'boolean', 'json'] as const;

/**
 * The routes under /jobs/:id/state (queryable state): `GET state` lists the job's queryable
 * states, `GET state/:name?key=` looks one key up, `POST state/:name` a batch of keys.
 * `rest` are the path segments after `state`.
 */
export async function stateRoute(
  job: JobMaster,
  rest: readonly string[],
  method: string,
  query: URLSearchParams,
  req: IncomingMessage,
  maxContentLength: number,
): Promise<unknown> {
  try {
    if (rest.length === 0) return { states: listStates(job) };
    const name = rest[0]!;
    if (method === 'GET') {
      const mode = parseStateQueryMode(query.get('mode') ?? undefined);
      const key = parseKeyParameter(query);
      const [r] = await queryState(job, name, [key], mode);
      return {
        name,
        mode,
        key: stateValueToJson(key),
        found: r!.found,
        value: r!.found ? stateValueToJson(r!.value) : null,
        keyGroup: r!.keyGroup,
        subtask: r!.subtask,
      };
    }
    const { keys, mode } = await readLookupBody(req, maxContentLength);
    const results = await queryState(job, name, keys, mode);
    return {
      name,
      mode,
      results: results.map((r, i) => ({
        key: stateValueToJson(keys[i]),
        found: r.found,
        value: r.found ? stateValueToJson(r.value) : null,
      })),
    };
  } catch (e) {
    if (!(e instanceof StateQueryError)) throw e;
    const status = HTTP_STATUS_OF[e.reason];
    throw new RestError(
      status,
      e.message,
      status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {},
    );
  }
}

/** The methods of a path under /jobs/:id/state. */
export function stateMethods(rest: readonly string[]): string[] {
  if (rest.length === 0) return ['GET'];
  if (rest.length === 1) return ['GET', 'POST'];
  return [];
}

function listStates(job: JobMaster) {
  return [...job.queryableStates.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => ({
      name: s.name,
      vertexId: String(s.vertexId),
      operatorUid: s.operatorUid,
      operatorName: s.operatorName,
      kind: s.kind,
      ttl: s.ttl,
      parallelism: s.parallelism,
      maxParallelism: s.maxParallelism,
    }));
}

function badRequest(message: string): StateQueryError {
  return new StateQueryError('bad-request', message);
}

/** `key` as `keyType` says (`string` by default; `json` for tuple keys). */
function parseKeyParameter(query: URLSearchParams): Key {
  const raw = query.get('key');
  if (raw === null) throw badRequest('The query parameter "key" is required: ?key=<key>');
  const keyType = query.get('keyType') ?? 'string';
  switch (keyType) {
    case 'string':
      return raw;
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n))
        throw badRequest(`key ${JSON.stringify(raw)} is not a finite number (keyType=number)`);
      return n;
    }
    case 'bigint':
      try {
        if (!/^-?\d+$/.test(raw.trim())) throw new Error('not an integer');
        return BigInt(raw.trim());
      } catch {
        throw badRequest(`key ${JSON.stringify(raw)} is not an integer (keyType=bigint)`);
      }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw badRequest(`key ${JSON.stringify(raw)} is not true or false (keyType=boolean)`);
    case 'json': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (e) {
        throw badRequest(
          `key ${JSON.stringify(raw)} is not JSON (keyType=json): ${ensureError(e).message}`,
        );
      }
      return checkLookupKey(parsed, `key ${raw}`);
    }
    default:
      throw badRequest(
        `keyType must be one of ${KEY_TYPES.join(', ')}; got ${JSON.stringify(keyType)}`,
      );
  }
}

/** The body of a batched lookup: `{ "keys": [...], "mode": "live" }`; keys typed by JSON. */
async function readLookupBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ keys: Key[]; mode: ReturnType<typeof parseStateQueryMode> }> {
  const text = (await readBody(req, limit)).toString('utf8').trim();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw badRequest(
      `The body must be JSON {"keys": [...], "mode": "live"}: ${ensureError(e).message}`,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('The body must be a JSON object {"keys": [...], "mode": "live"}');
  const { keys, mode } = body as { keys?: unknown; mode?: unknown };
  if (!Array.isArray(keys)) throw badRequest('The body needs "keys": an array of keys');
  if (keys.length > MAX_KEYS_PER_LOOKUP) {
    throw badRequest(
      `A lookup may ask for at most ${MAX_KEYS_PER_LOOKUP} keys; got ${keys.length}: split it`,
    );
  }
  return {
    keys: keys.map((k, i) => checkLookupKey(k, `keys[${i}] (${JSON.stringify(k)})`)),
    mode: parseStateQueryMode(mode),
  };
}

// Job bundles over REST, as Flink takes jars: upload (multipart), list, run, delete.
import { RpcStatusError } from '@nimble/proto';
import type { IncomingMessage } from 'node:http';
import type { JobManager } from './job-manager.js';
import { RestError } from './rest-error.js';

/** One part of a multipart/form-data body. */
interface FormPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly data: Buffer;
}

/** Reads a body of at most `limit` bytes (413 beyond it, refused before reading when declared). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new RestError(
      413,
      `Request body exceeds the limit of ${limit} bytes (rest.server.max-content-length)`,
      { connection: 'close' },
    );
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The parts of a multipart/form-data body (RFC 7578); 400 naming what is malformed. */
export function parseMultipart(body: Buffer, contentType: string): FormPart[] {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!/^multipart\/form-data\b/i.test(contentType) || !boundary) {
    throw new RestError(
      400,
      'Upload a job bundle as multipart/form-data with the file in a part named "jarfile" ' +
        '(curl -F "jarfile=@job.mjs" <host>/jars/upload)',
    );
  }
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new RestError(400, 'Multipart body: no part starts with the boundary');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') break;
    const headersEnd = body.indexOf('\r\n\r\n', at);
    if (headersEnd < 0) throw new RestError(400, 'Multipart body: a part has no end of headers');
    const headers = body.subarray(at, headersEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd + 4);
    if (next < 0) throw new RestError(400, 'Multipart body: a part is not closed by the boundary');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    parts.push({ name, filename, data: body.subarray(headersEnd + 4, next) });
    at = next + 2;
  }
  return parts;
}

/** POST /jars/upload: Flink's JarUploadResponseBody. */
export async function uploadJar(jm: JobManager, req: IncomingMessage, limit: number) {
  const body = await readBody(req, limit);
  const parts = parseMultipart(body, req.headers['content-type'] ?? '');
  const file = parts.find((p) => p.filename !== undefined);
  if (!file)
    throw new RestError(400, 'The upload holds no file: send it in a part named "jarfile"');
  if (!/\.m?js$/.test(file.filename!)) {
    throw new RestError(
      400,
      `Only job bundles (one ES module, .mjs or .js) can be uploaded, not ${JSON.stringify(file.filename)}`,
    );
  }
  if (file.data.length === 0) throw new RestError(400, `${file.filename} is empty`);
  const jar = jm.jars.put(file.filename!, file.data);
  jm.log.info({ jar_id: jar.id, bytes: file.data.length }, 'job bundle uploaded');
  return { filename: `${jm.jars.dir}/${jar.id}`, status: 'success' };
}

/** GET /jars: Flink's JarListInfo. */
export function listJars(jm: JobManager, req: IncomingMessage, tls: boolean) {
  return {
    address: `${tls ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`,
    files: jm.jars.list().map((j) => ({
      id: j.id,
      name: j.name,
      uploaded: Math.round(j.uploaded),
      // A bundle has one entry: the module, which builds and executes its job.
      entry: [{ name: 'default', description: null }],
    })),
  };
}

function jarFile(jm: JobManager, id: string): string {
  const file = jm.jars.path(id);
  if (!file) throw new RestError(404, `Jar file ${id} does not exist`);
  return file;
}

export function deleteJar(jm: JobManager, id: string): Record<string, never> {
  jarFile(jm, id);
  jm.jars.delete(id);
  return {};
}

/** Flink's splitting of `programArgs`: on white space, quotes keep their content together. */
export function tokenizeArguments(args: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(args); m; m = re.exec(args)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

type Body = Record<string, unknown>;

function field(body: Body, query: URLSearchParams, name: string): unknown {
  const value = body[name];
  if (value !== undefined && value !== null) return value;
  return query.get(name) ?? undefined;
}

function programArgs(body: Body, query: URLSearchParams): string[] {
  const list = body['programArgsList'];
  const text = body['programArgs'];
  if (list !== undefined && list !== null && text !== undefined && text !== null) {
    throw new RestError(
      400,
      'Confusing request: programArgs and programArgsList are specified, please, use only programArgsList',
    );
  }
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list) || !list.every((a) => typeof a === 'string'))
      throw new RestError(400, 'Field "programArgsList" must be a list of strings');
    return list as string[];
  }
  if (text !== undefined && text !== null) {
    if (typeof text !== 'string') throw new RestError(400, 'Field "programArgs" must be a string');
    return tokenizeArguments(text);
  }
  const listed = query.get('programArg');
  if (listed !== null) return listed.split(',');
  const deprecated = query.get('program-args');
  return deprecated === null ? [] : tokenizeArguments(deprecated);
}

/** POST /jars/:id/run (Flink's JarRunRequestBody, or its query parameters): `{jobid}`. */
export async function runJar(jm: JobManager, id: string, body: Body, query: URLSearchParams) {
  const file = jarFile(jm, id);
  for (const unsupported of ['entryClass', 'entry-class', 'jobId']) {
    if (field(body, query, unsupported) !== undefined) {
      throw new RestError(
        400,
        unsupported === 'jobId'
          ? 'Field "jobId" is not supported: the JobManager gives each job a new id'
          : `Field "${unsupported}" is not supported: a job bundle has one entry, the module itself`,
      );
    }
  }
  const restoreMode = field(body, query, 'restoreMode');
  if (restoreMode !== undefined && restoreMode !== 'NO_CLAIM') {
    throw new RestError(
      400,
      `Field "restoreMode" must be NO_CLAIM (a savepoint stays the user's), not ${JSON.stringify(restoreMode)}`,
    );
  }
  let parallelism: number | undefined;
  const p = field(body, query, 'parallelism');
  if (p !== undefined) {
    parallelism = Number(p);
    // Flink: a parallelism of 0 or less means the job's or cluster's default.
    if (!Number.isInteger(parallelism))
      throw new RestError(400, `Field "parallelism" must be an integer, not ${JSON.stringify(p)}`);
    if (parallelism <= 0) parallelism = undefined;
  }
  const savepointPath = field(body, query, 'savepointPath');
  if (savepointPath !== undefined && typeof savepointPath !== 'string')
    throw new RestError(400, 'Field "savepointPath" must be a string');
  const allow = field(body, query, 'allowNonRestoredState');
  if (allow !== undefined && typeof allow !== 'boolean' && allow !== 'true' && allow !== 'false')
    throw new RestError(400, 'Field "allowNonRestoredState" must be a boolean');
  try {
    const jobid = await jm.runBundle(file, {
      programArgs: programArgs(body, query),
      parallelism,
      savepointPath: savepointPath ?? '',
      allowNonRestoredState: allow === true || allow === 'true',
    });
    return { jobid };
  } catch (e) {
    // The submission's checks refuse with gRPC statuses: the same refusals, as 400s.
    if (e instanceof RpcStatusError) throw new RestError(400, e.message);
    throw e;
  }
}

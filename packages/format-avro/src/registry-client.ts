/**
 * A client of the Confluent Schema Registry REST API (Confluent's `CachedSchemaRegistryClient`),
 * on fetch: schemas by id and ids by subject and schema, each asked once and then cached. Its
 * lookups are asynchronous; the serialization schemas ask them before records flow (`open`,
 * `prepare`) and read the caches synchronously per record.
 */

/** Registry settings with Confluent's names (Flink's `registryConfigs`). */
export interface SchemaRegistryConfigs {
  /** `user:password` for HTTP basic authentication. */
  readonly 'basic.auth.user.info'?: string;
  /** `USER_INFO` (default: use basic.auth.user.info) or `URL` (credentials in the URL). */
  readonly 'basic.auth.credentials.source'?: string;
  /** A bearer token (Confluent's bearer.auth.token, with bearer.auth.credentials.source STATIC_TOKEN). */
  readonly 'bearer.auth.token'?: string;
  /** Milliseconds a request may take (default 30000). */
  readonly 'request.timeout.ms'?: string | number;
  readonly [key: string]: string | number | undefined;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** The registry answered with an error (its HTTP status and Confluent error code). */
export class SchemaRegistryError extends Error {
  override name = 'SchemaRegistryError';
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: number | undefined,
  ) {
    super(message);
  }
}

export class SchemaRegistryClient {
  /** The base URL without a trailing slash and without credentials. */
  readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly schemasById = new Map<number, string>();
  private readonly idsBySchema = new Map<string, number>();

  constructor(url: string, configs: SchemaRegistryConfigs = {}) {
    if (typeof url !== 'string' || url.trim() === '') {
      throw new Error('schema registry: a URL is required (e.g. http://localhost:8081)');
    }
    // Confluent takes a comma-separated list; this client talks to the first.
    const first = url.split(',')[0]!.trim();
    let parsed: URL;
    try {
      parsed = new URL(first);
    } catch {
      throw new Error(`schema registry: '${first}' is not a URL (e.g. http://localhost:8081)`);
    }
    this.headers = { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE };
    const source = String(configs['basic.auth.credentials.source'] ?? 'USER_INFO').toUpperCase();
    let userInfo: string | undefined;
    if (source === 'URL' && parsed.username !== '') {
      userInfo = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    } else if (source === 'USER_INFO') {
      userInfo = configs['basic.auth.user.info'];
    } else if (source !== 'URL') {
      throw new Error(
        `schema registry: basic.auth.credentials.source '${source}' is not supported (USER_INFO or URL)`,
      );
    }
    if (userInfo !== undefined && userInfo !== '') {
      this.headers.Authorization = `Basic ${Buffer.from(userInfo).toString('base64')}`;
    } else if (configs['bearer.auth.token'] !== undefined) {
      this.headers.Authorization = `Bearer ${configs['bearer.auth.token']}`;
    }
    parsed.username = '';
    parsed.password = '';
    this.url = parsed.toString().replace(/\/+$/, '');
    const timeout = Number(configs['request.timeout.ms'] ?? 30_000);
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new Error(
        `schema registry: request.timeout.ms must be a positive number of milliseconds; got ${String(configs['request.timeout.ms'])}`,
      );
    }
    this.timeoutMs = timeout;
  }

  /** The schema with this id, from the cache: undefined when not fetched yet. */
  cachedSchema(id: number): string | undefined {
    return this.schemasById.get(id);
  }

  /** The schema (its JSON text) with this id: GET /schemas/ids/{id}, cached. */
  async getSchemaById(id: number): Promise<string> {
    const cached = this.schemasById.get(id);
    if (cached !== undefined) return cached;
    const body = (await this.request('GET', `/schemas/ids/${id}`)) as {
      schema: string;
      schemaType?: string;
    };
    if (body.schemaType !== undefined && body.schemaType !== 'AVRO') {
      throw new SchemaRegistryError(
        `schema registry ${this.url}: schema id ${id} is a ${body.schemaType} schema, not Avro`,
        200,
        undefined,
      );
    }
    this.schemasById.set(id, body.schema);
    return body.schema;
  }

  /**
   * Registers `schema` under `subject` (POST /subjects/{subject}/versions) and returns its id; the
   * registry checks it against the subject's compatibility rule and refuses it with a message
   * naming the subject. An already registered schema returns its id.
   */
  async register(subject: string, schema: string): Promise<number> {
    const key = `${subject}\u0000${schema}`;
    const cached = this.idsBySchema.get(key);
    if (cached !== undefined) return cached;
    const body = (await this.request(
      'POST',
      `/subjects/${encodeURIComponent(subject)}/versions`,
      { schema },
      subject,
    )) as { id: number };
    this.idsBySchema.set(key, body.id);
    this.schemasById.set(body.id, schema);
    return body.id;
  }

  /** The id of `schema` registered under `subject` (POST /subjects/{subject}), without registering. */
  async lookup(subject: string, schema: string): Promise<number> {
    const key = `${subject}\u0000${schema}`;
    const cached = this.idsBySchema.get(key);
    if (cached !== undefined) return cached;
    const body = (await this.request(
      'POST',
      `/subjects/${encodeURIComponent(subject)}`,
      { schema },
      subject,
    )) as { id: number };
    this.idsBySchema.set(key, body.id);
    this.schemasById.set(body.id, schema);
    return body.id;
  }

  /** Sets the compatibility rule of `subject` (PUT /config/{subject}), e.g. BACKWARD. */
  async setCompatibility(subject: string, compatibility: string): Promise<void> {
    await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility }, subject);
  }

  /**
   * One request; an answer of HTTP 5xx (a registry's storage busy) is retried twice, after 250
   * and 1000 ms. An unreachable registry fails at once.
   */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    subject?: string,
  ): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce(method, path, body, subject);
      } catch (e) {
        if (!(e instanceof SchemaRegistryError) || e.status < 500 || attempt >= 2) throw e;
        await new Promise((r) => setTimeout(r, attempt === 0 ? 250 : 1000));
      }
    }
  }

  private async requestOnce(
    method: string,
    path: string,
    body?: unknown,
    subject?: string,
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(this.url + path, {
        method,
        headers: this.headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const cause = e as Error & { cause?: { code?: string; message?: string } };
      const why =
        cause.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs} ms`
          : (cause.cause?.code ?? cause.cause?.message ?? cause.message);
      throw new Error(
        `schema registry ${this.url} is unreachable (${method} ${path}: ${why}): check the registry URL and that the registry runs`,
        { cause: e },
      );
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok && json !== undefined) return json;
    const answer = json as { message?: string; error_code?: number } | undefined;
    const message = answer?.message ?? text.slice(0, 200);
    const subjectPart = subject !== undefined ? ` for subject '${subject}'` : '';
    let what: string;
    if (response.status === 401 || response.status === 403) {
      what = `refused the credentials (HTTP ${response.status}): check basic.auth.user.info`;
    } else if (response.status === 409) {
      what = `refused the schema${subjectPart} as incompatible: ${message}`;
    } else if (response.status === 422) {
      what = `refused the schema${subjectPart} as invalid: ${message}`;
    } else {
      what = `answered ${method} ${path} with HTTP ${response.status}${subjectPart}: ${message}`;
    }
    throw new SchemaRegistryError(
      `schema registry ${this.url} ${what}`,
      response.status,
      answer?.error_code,
    );
  }
}

// The options of s3:// checkpoint storage, with the keys of Flink's S3 file systems
// (flink-s3-fs-hadoop / -presto) where Flink has one.
import type { ConfigOption } from '../../config-option.js';
import { boolOption, stringOption } from '../../config-option.js';

/** How to reach S3 or an S3-compatible store (MinIO, Ceph, ...). */
export interface S3Options {
  /** An http(s) URL; undefined: AWS S3 in `region`. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** With `secretKey`; undefined: the AWS SDK's default credential chain. */
  readonly accessKey: string | undefined;
  readonly secretKey: string | undefined;
  /** Address buckets as endpoint/bucket rather than bucket.endpoint. */
  readonly pathStyleAccess: boolean;
}

const endpointOption = stringOption(
  's3.endpoint',
  '',
  'URL of an S3-compatible store (MinIO, Ceph, ...) for s3:// checkpoint storage. Empty: AWS S3 ' +
    'in s3.region.',
);

/** The options of s3:// checkpoint and savepoint storage. */
export const S3ConfigOptions = {
  endpoint: {
    ...endpointOption,
    parse(value) {
      const endpoint = endpointOption.parse(value);
      if (endpoint !== '' && !/^https?:\/\/[^/]/i.test(endpoint)) {
        throw new Error('must be empty or an http:// or https:// URL');
      }
      return endpoint;
    },
  } satisfies ConfigOption<string>,
  region: stringOption(
    's3.region',
    'us-east-1',
    'Region of the S3 buckets (also signs requests to an s3.endpoint).',
    { nonEmpty: true },
  ),
  accessKey: stringOption(
    's3.access-key',
    '',
    'Access key of s3:// storage, with s3.secret-key. Empty: the AWS SDK default credential ' +
      'chain (environment variables, profile, container or instance role).',
  ),
  secretKey: stringOption('s3.secret-key', '', 'Secret key of s3:// storage, with s3.access-key.'),
  pathStyleAccess: boolOption(
    's3.path.style.access',
    false,
    'Address buckets as endpoint/bucket instead of bucket.endpoint; most S3-compatible stores ' +
      'need true.',
  ),
};

/** The S3 options of a configuration; `get` returns an option's value (or its default). */
export function s3OptionsFrom(get: <T>(option: ConfigOption<T>) => T): S3Options {
  const orUndefined = (value: string) => (value === '' ? undefined : value);
  return {
    endpoint: orUndefined(get(S3ConfigOptions.endpoint)),
    region: get(S3ConfigOptions.region),
    accessKey: orUndefined(get(S3ConfigOptions.accessKey)),
    secretKey: orUndefined(get(S3ConfigOptions.secretKey)),
    pathStyleAccess: get(S3ConfigOptions.pathStyleAccess),
  };
}

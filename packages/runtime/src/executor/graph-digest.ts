import { createHash } from 'node:crypto';

/** Digest of a job graph description: the client and every worker must build the same graph. */
export function graphDigestOf(description: object): string {
  return createHash('sha256').update(JSON.stringify(description)).digest('hex');
}

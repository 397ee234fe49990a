/**
 * Paths inside checkpoint storage. `_metadata` names its state files relative to its own
 * directory, so a savepoint directory can be moved or copied as a whole (relocatable), and
 * checkpoints reach the job's shared incremental files as `../shared/<file>`.
 */

/** Resolves `relative` (may start with `../`) against directory URI `dir`. */
export function resolveRelative(dir: string, relative: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(relative) || relative.startsWith('/')) {
    throw new Error(
      `State file path ${relative} must be relative to the _metadata directory ${dir}`,
    );
  }
  let base = dir.replace(/\/+$/, '');
  let rest = relative;
  while (rest.startsWith('../')) {
    const cut = base.lastIndexOf('/');
    if (cut < 0 || base.slice(0, cut).endsWith(':/')) {
      throw new Error(`State file path ${relative} leaves the storage root of ${dir}`);
    }
    base = base.slice(0, cut);
    rest = rest.slice(3);
  }
  return `${base}/${rest}`;
}

/** Layout of a job's checkpoint directory: `<dir>/<job-id>/chk-<n>/` and `<dir>/<job-id>/shared/`. */
export function checkpointDirectories(
  checkpointsDir: string,
  jobId: string,
  checkpointId: number,
): { jobDir: string; targetDir: string; sharedDir: string } {
  const jobDir = `${checkpointsDir.replace(/\/+$/, '')}/${jobId}`;
  return { jobDir, targetDir: `${jobDir}/chk-${checkpointId}`, sharedDir: `${jobDir}/shared` };
}

/** A new savepoint directory under `savepointsDir`: `savepoint-<jobid6>-<rand12>` (Flink's naming). */
export function savepointDirectory(savepointsDir: string, jobId: string): string {
  const rand = Array.from({ length: 12 }, () => Math.floor(Math.random() * 16).toString(16)).join(
    '',
  );
  return `${savepointsDir.replace(/\/+$/, '')}/savepoint-${jobId.slice(0, 6)}-${rand}`;
}

/**
 * Resolves a state file path of an acknowledgement against the checkpoint's directory `dir` and
 * checks that it stays inside one of `roots` (the checkpoint's directory and, for incremental
 * checkpoints, the job's shared directory). Only leading `../` are allowed; a `.` or `..` segment
 * further on, an empty segment, a backslash, a percent sign or a control character is refused,
 * so no file system can read the path as another one. Throws an error naming the path.
 */
export function resolveInside(dir: string, relative: string, roots: readonly string[]): string {
  const lead = /^(?:\.\.\/)*/.exec(relative)?.[0] ?? '';
  const segments = relative.slice(lead.length).split('/');
  const bad =
    segments.some((s) => s === '' || s === '.' || s === '..') ||
    // eslint-disable-next-line no-control-regex
    /[\\%\u0000-\u001f\u007f]/.test(relative);
  if (bad) throw new Error(`State file path ${JSON.stringify(relative)} is not a plain file path`);
  const uri = resolveRelative(dir, relative);
  const inside = roots.some((r) => uri.startsWith(`${r.replace(/\/+$/, '')}/`));
  if (!inside) {
    throw new Error(
      `State file path ${JSON.stringify(relative)} resolves to ${uri}, outside ${roots.join(' and ')}`,
    );
  }
  return uri;
}

/** Exit codes of the `nimble` command, for scripts. */
export const ExitCode = {
  /** The command did what was asked (a job run attached FINISHED). */
  OK: 0,
  /** The command failed: the job failed or was canceled, the JobManager refused or was unreachable. */
  FAILURE: 1,
  /** Bad usage or configuration: unknown option or key, bad value, missing file. */
  USAGE: 2,
} as const;

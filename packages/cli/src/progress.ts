/** Where progress is shown: a terminal (stderr) or anything that says it is one. */
export interface ProgressOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Shows that a long operation (a savepoint, a stop, an upload) is still going: on a terminal,
 * `label... 3 s` rewritten in place every second, then `label... done in 4.2 s`. Elsewhere
 * (scripts, pipes, CI logs) nothing, so their output stays the same. Resolves or rejects as
 * `work` does.
 */
export async function progress<T>(
  label: string,
  work: Promise<T>,
  out: ProgressOutput = process.stderr,
  tickMs = 1000,
): Promise<T> {
  if (out.isTTY !== true) return work;
  const started = Date.now();
  const seconds = (): number => Math.floor((Date.now() - started) / 1000);
  out.write(`${label}...`);
  const ticker = setInterval(() => out.write(`\r\u001b[K${label}... ${seconds()} s`), tickMs);
  try {
    const result = await work;
    out.write(`\r\u001b[K${label}... done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return result;
  } catch (e) {
    out.write(
      `\r\u001b[K${label}... failed after ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    throw e;
  } finally {
    clearInterval(ticker);
  }
}

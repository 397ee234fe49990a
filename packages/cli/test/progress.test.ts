import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progress } from '../src/progress.js';

/** What a terminal, or a pipe, receives. */
function output(isTTY: boolean): { isTTY: boolean; text: string[]; write(t: string): void } {
  const text: string[] = [];
  return { isTTY, text, write: (t: string) => void text.push(t) };
}

describe('progress of long CLI operations', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('on a terminal, counts the seconds in place and ends with the time taken', async () => {
    const out = output(true);
    let finish!: (path: string) => void;
    const shown = progress('Taking the savepoint', new Promise<string>((r) => (finish = r)), out);
    await vi.advanceTimersByTimeAsync(2_500);
    finish('s3://bucket/savepoint-1');
    vi.setSystemTime(2_600);
    await expect(shown).resolves.toBe('s3://bucket/savepoint-1');
    expect(out.text).toEqual([
      'Taking the savepoint...',
      '\r\u001b[KTaking the savepoint... 1 s',
      '\r\u001b[KTaking the savepoint... 2 s',
      '\r\u001b[KTaking the savepoint... done in 2.6 s\n',
    ]);
    // The ticker stopped with the work.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(out.text).toHaveLength(4);
  });

  it('says when the work failed, and passes the failure on', async () => {
    const out = output(true);
    const shown = progress('Disposing', Promise.reject(new Error('no such savepoint')), out);
    await expect(shown).rejects.toThrow('no such savepoint');
    expect(out.text.at(-1)).toBe('\r\u001b[KDisposing... failed after 0.0 s\n');
  });

  it('writes nothing where the output is not a terminal (scripts keep their output)', async () => {
    const out = output(false);
    await expect(progress('Uploading the job (12 KiB)', Promise.resolve(7), out)).resolves.toBe(7);
    expect(out.text).toEqual([]);
  });
});

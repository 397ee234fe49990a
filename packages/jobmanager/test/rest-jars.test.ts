// Uploaded job bundles: the multipart body as browsers and curl send it, program arguments as
// Flink splits them, and a store no file name can leave.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JarStore } from '../src/jar-store.js';
import { parseMultipart, tokenizeArguments } from '../src/rest-jars.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('multipart/form-data', () => {
  it('parts with their names, file names and bytes', async () => {
    const form = new FormData();
    form.append('note', 'hello');
    form.append('jarfile', new Blob([new Uint8Array([0, 13, 10, 45, 45, 255])]), 'job.mjs');
    const request = new Request('http://x/', { method: 'POST', body: form });
    const body = Buffer.from(await request.arrayBuffer());
    const parts = parseMultipart(body, request.headers.get('content-type')!);
    expect(parts.map((p) => [p.name, p.filename, [...p.data]])).toEqual([
      ['note', undefined, [...Buffer.from('hello')]],
      ['jarfile', 'job.mjs', [0, 13, 10, 45, 45, 255]],
    ]);
  });

  it('a body that is not multipart, or is cut off, is a 400 naming what is wrong', () => {
    expect(() => parseMultipart(Buffer.from('{}'), 'application/json')).toThrow(
      /multipart\/form-data with the file in a part named "jarfile"/,
    );
    const cut = Buffer.from('--b\r\ncontent-disposition: form-data; name="a"\r\n\r\nno end');
    expect(() => parseMultipart(cut, 'multipart/form-data; boundary=b')).toThrow(
      'Multipart body: a part is not closed by the boundary',
    );
  });
});

describe('program arguments', () => {
  it('split on white space; quotes keep words together', () => {
    expect(tokenizeArguments(` --events 10  --name "a b" 'c d' `)).toEqual([
      '--events',
      '10',
      '--name',
      'a b',
      'c d',
    ]);
  });
});

describe('the jar store', () => {
  it('keeps every upload inside its directory, whatever the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimble-jars-'));
    dirs.push(dir);
    const store = new JarStore(join(dir, 'jars'));
    const a = store.put('../../etc/passwd.js', Buffer.from('export {}'));
    const b = store.put('C:\\Users\\me\\my job.mjs', Buffer.from('export {}'));
    expect(a.id).toMatch(/^[0-9a-f-]{36}_passwd\.mjs$/);
    expect(b.name).toBe('my_job.mjs');
    expect(readdirSync(join(dir, 'jars')).sort()).toEqual([a.id, b.id].sort());
    expect(readdirSync(dir)).toEqual(['jars']);
    for (const bad of ['../jars', `../${a.id}`, a.id.replace('_', '/'), 'x.mjs'])
      expect(store.path(bad), bad).toBeUndefined();
    expect(store.path(a.id)).toBe(join(dir, 'jars', a.id));
    expect(store.delete(a.id)).toBe(true);
    expect(store.list().map((j) => j.id)).toEqual([b.id]);
  });
});

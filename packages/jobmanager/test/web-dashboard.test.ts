import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { restAuthorized } from '../src/rest-auth.js';
import { dashboardFile, isDashboardPath } from '../src/web-dashboard.js';

const request = (method: string, url: string, authorization?: string) =>
  ({ method, url, headers: authorization ? { authorization } : {} }) as IncomingMessage;

describe('the web dashboard files', () => {
  it('serves the page, its modules and the libraries from the package dependencies', () => {
    expect(dashboardFile('/')![1]).toBe('text/html; charset=utf-8');
    expect(dashboardFile('/')![0]).toContain('<script type="module" src="/web/app.js"></script>');
    expect(dashboardFile('/index.html')![0]).toBe(dashboardFile('/')![0]);
    expect(dashboardFile('/web/style.css')![1]).toBe('text/css; charset=utf-8');
    expect(dashboardFile('/web/lib/uplot.css')![1]).toBe('text/css; charset=utf-8');
    for (const lib of ['preact', 'preact-hooks', 'htm', 'dagre', 'uplot']) {
      const [body, type] = dashboardFile(`/web/lib/${lib}.js`)!;
      expect(type).toBe('text/javascript; charset=utf-8');
      expect(body.length).toBeGreaterThan(1000);
    }
    // The hooks import preact by its bare name, which the page's import map resolves.
    expect(dashboardFile('/web/lib/preact-hooks.js')![0]).toContain('from"preact"');
  });

  it('serves nothing but its own files', () => {
    for (const path of [
      '/web/',
      '/web/lib/../app.js',
      '/web/../package.json',
      '/web/index.js',
      '/jobs',
    ])
      expect(dashboardFile(path)).toBeUndefined();
    expect(isDashboardPath('/web/lib/../../src/index.ts')).toBe(false);
  });

  it('is open without the token while the data stays closed', () => {
    const token = 'a-token-of-enough-length';
    for (const url of ['/', '/index.html', '/web/app.js', '/web/lib/dagre.js'])
      expect(restAuthorized(request('GET', url), token)).toBe(true);
    expect(restAuthorized(request('POST', '/'), token)).toBe(false);
    expect(restAuthorized(request('GET', '/jobs/overview'), token)).toBe(false);
    expect(restAuthorized(request('GET', '/config'), token)).toBe(false);
    expect(restAuthorized(request('GET', '/jobs/overview', `Bearer ${token}`), token)).toBe(true);
  });
});

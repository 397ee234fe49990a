// Nimble's web dashboard: Flink's pages over Flink's REST API, rendered with preact + htm.
// Plain ES modules served by the JobManager (no build step); dagre (a global) lays out the graph.
import { h, render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import uPlot from 'uplot';

const html = htm.bind(h);
const TOKEN_KEY = 'nimble.rest-token';

// ---- REST ------------------------------------------------------------------------------------

/** Raised on 401: the cluster has a token and this tab has not sent the right one. */
class Unauthorized extends Error {}

const authListeners = new Set();

async function api(path, init = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { ...(init.headers ?? {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    init = { ...init, body: JSON.stringify(init.json) };
  }
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) {
    // A token that was sent and refused is forgotten, so the login says so and asks again.
    if (token) sessionStorage.removeItem(TOKEN_KEY);
    for (const l of authListeners) l(Boolean(token));
    throw new Unauthorized('This cluster needs its REST token');
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const errors = body && Array.isArray(body.errors) ? body.errors.join('; ') : text;
    const e = new Error(`${res.status}: ${errors}`);
    e.status = res.status;
    throw e;
  }
  return body;
}

let refreshInterval = 3000;
const tickListeners = new Set();
let tick = 0;
function scheduleTick() {
  setTimeout(() => {
    tick++;
    for (const l of tickListeners) l(tick);
    scheduleTick();
  }, refreshInterval);
}

/** The answer of GET `path`, fetched again on every refresh tick (Flink's refresh-interval). */
function usePoll(path) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const [t, setT] = useState(tick);
  useEffect(() => {
    tickListeners.add(setT);
    return () => tickListeners.delete(setT);
  }, []);
  useEffect(() => {
    if (!path) return undefined;
    let live = true;
    api(path).then(
      (data) => live && setState({ data, error: undefined }),
      (error) => live && setState((s) => ({ data: s.data, error })),
    );
    return () => {
      live = false;
    };
  }, [path, t]);
  useEffect(() => setState({ data: undefined, error: undefined }), [path]);
  return state;
}

/** Several GETs polled together; `paths` is an array, the answer an array in the same order. */
function usePollAll(paths) {
  const key = paths.join('\n');
  const [state, setState] = useState({ data: undefined, error: undefined });
  const [t, setT] = useState(tick);
  useEffect(() => {
    tickListeners.add(setT);
    return () => tickListeners.delete(setT);
  }, []);
  useEffect(() => {
    if (paths.length === 0) return undefined;
    let live = true;
    Promise.all(paths.map((p) => api(p).catch((e) => ({ __error: e })))).then(
      (data) => live && setState({ data, error: undefined }),
    );
    return () => {
      live = false;
    };
  }, [key, t]);
  return state;
}

// ---- formatting ----------------------------------------------------------------------------

/** An id as a URL path segment; ':' (in TaskManager ids) stays as it is, legal in a path. */
const segment = (id) => encodeURIComponent(id).replace(/%3A/gi, ':');

const fmtTime = (ms) => (ms > 0 ? new Date(ms).toLocaleString() : '-');
function fmtDuration(ms) {
  if (ms === undefined || ms === null || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  const parts = [];
  if (s >= 86400) parts.push(`${Math.floor(s / 86400)}d`);
  if (s >= 3600) parts.push(`${Math.floor((s % 86400) / 3600)}h`);
  if (s >= 60) parts.push(`${Math.floor((s % 3600) / 60)}m`);
  parts.push(`${s % 60}s`);
  return parts.join(' ');
}
function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
const fmtNum = (n) => (typeof n === 'number' ? n.toLocaleString() : (n ?? '-'));
const pct = (r) => (typeof r === 'number' ? `${Math.round(r * 100)}%` : '-');
/** Flink shows Long.MIN_VALUE (and anything below 0) as "no watermark". */
function fmtWatermark(v) {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) return 'No Watermark';
  return new Date(n).toISOString();
}

const State = ({ s }) => html`<span class=${`state ${s}`}>${s}</span>`;
const ErrorMessage = ({ error }) =>
  error && !(error instanceof Unauthorized)
    ? html`<div class="message error">${error.message}</div>`
    : null;
const Loading = () => html`<p class="muted">Loading…</p>`;

function KeyValues({ entries, testid }) {
  return html`<table data-testid=${testid}>
    <thead>
      <tr>
        <th>Key</th>
        <th>Value</th>
      </tr>
    </thead>
    <tbody>
      ${entries.map(
        ([k, v]) =>
          html`<tr>
            <td>${k}</td>
            <td>${typeof v === 'object' ? JSON.stringify(v) : String(v)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** An object flattened to dotted keys, for the pages that show a configuration as a table. */
function flatten(obj, prefix = '') {
  const out = [];
  for (const [k, v] of Object.entries(obj ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...flatten(v, key));
    else out.push([key, v]);
  }
  return out;
}

// ---- overview and job lists -----------------------------------------------------------------

function JobsTable({ jobs, testid }) {
  if (jobs.length === 0) return html`<p class="muted" data-testid=${testid}>No jobs.</p>`;
  return html`<table data-testid=${testid}>
    <thead>
      <tr>
        <th>Job name</th>
        <th>Start time</th>
        <th>Duration</th>
        <th>End time</th>
        <th>Tasks</th>
        <th>Status</th>
      </tr>
    </thead>
    <tbody>
      ${jobs.map(
        (j) =>
          html`<tr class="clickable" data-job-id=${j.jid} onClick=${() => go(`#/job/${j.jid}`)}>
            <td><a href=${`#/job/${j.jid}`}>${j.name}</a></td>
            <td>${fmtTime(j['start-time'])}</td>
            <td>${fmtDuration(j.duration)}</td>
            <td>${fmtTime(j['end-time'])}</td>
            <td class="num">${Object.values(j.tasks ?? {}).reduce((a, b) => a + b, 0)}</td>
            <td><${State} s=${j.state} /></td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

const TERMINAL = new Set(['FINISHED', 'CANCELED', 'FAILED']);
const byStart = (a, b) => b['start-time'] - a['start-time'];

function Overview() {
  const o = usePoll('/overview');
  const jobs = usePoll('/jobs/overview');
  const d = o.data;
  const list = jobs.data?.jobs ?? [];
  return html`<div>
    <header class="top"><h1>Overview</h1></header>
    <${ErrorMessage} error=${o.error} />
    ${
      d
        ? html`<div class="cards" data-testid="overview-cards">
            <${Card} label="TaskManagers" value=${d.taskmanagers} testid="taskmanagers" />
            <${Card} label="Total task slots" value=${d['slots-total']} testid="slots-total" />
            <${Card}
              label="Available task slots"
              value=${d['slots-available']}
              testid="slots-available"
            />
            <${Card} label="Running jobs" value=${d['jobs-running']} testid="jobs-running" />
            <${Card} label="Finished jobs" value=${d['jobs-finished']} testid="jobs-finished" />
            <${Card} label="Cancelled jobs" value=${d['jobs-cancelled']} testid="jobs-cancelled" />
            <${Card} label="Failed jobs" value=${d['jobs-failed']} testid="jobs-failed" />
          </div>`
        : html`<${Loading} />`
    }
    <h2>Running jobs</h2>
    <${ErrorMessage} error=${jobs.error} />
    <${JobsTable}
      testid="running-jobs"
      jobs=${list.filter((j) => !TERMINAL.has(j.state)).sort(byStart)}
    />
    <h2>Completed jobs</h2>
    <${JobsTable}
      testid="completed-jobs"
      jobs=${list.filter((j) => TERMINAL.has(j.state)).sort(byStart)}
    />
  </div>`;
}

const Card = ({ label, value, testid }) =>
  html`<div class="card" data-testid=${testid}>
    <div class="label">${label}</div>
    <div class="value">${fmtNum(value)}</div>
  </div>`;

function JobList({ completed }) {
  const jobs = usePoll('/jobs/overview');
  const list = (jobs.data?.jobs ?? [])
    .filter((j) => TERMINAL.has(j.state) === completed)
    .sort(byStart);
  return html`<div>
    <header class="top"><h1>${completed ? 'Completed jobs' : 'Running jobs'}</h1></header>
    <${ErrorMessage} error=${jobs.error} />
    ${jobs.data ? html`<${JobsTable} testid=${completed ? 'completed-jobs' : 'running-jobs'} jobs=${list} />` : html`<${Loading} />`}
  </div>`;
}

// ---- job page --------------------------------------------------------------------------------

const TABS = [
  ['overview', 'Overview'],
  ['backpressure', 'Backpressure'],
  ['watermarks', 'Watermarks'],
  ['checkpoints', 'Checkpoints'],
  ['state', 'State'],
  ['exceptions', 'Exceptions'],
  ['configuration', 'Configuration'],
];

/** Flink's JobPlanInfo nodes: from /jobs/:id/plan, else the `plan` field of /jobs/:id. */
function planNodes(plan, job) {
  const p = plan?.plan ?? job?.plan;
  const nodes = Array.isArray(p?.nodes) ? p.nodes : [];
  return nodes.map((n) => ({
    id: String(n.id),
    name: n.description ?? n.operator ?? n.name ?? String(n.id),
    parallelism: n.parallelism,
    inputs: (n.inputs ?? []).map((i) => ({ id: String(i.id), strategy: i.ship_strategy ?? '' })),
  }));
}

/**
 * Busy / backpressured / idle of a vertex from its busiest subtask, as Flink's graph colors it:
 * the larger of the backpressured and busy ratios wins, shades of grey for backpressure and red
 * for busy; a vertex neither busy nor backpressured is idle (blue).
 */
function vertexLoad(bp) {
  const subtasks = bp && !bp.__error ? (bp.subtasks ?? []) : [];
  if (subtasks.length === 0) return undefined;
  // A ratio the TaskManagers did not report is null: shown as unknown, not as 0%.
  const known = (field) => subtasks.map((s) => s[field]).filter((r) => typeof r === 'number');
  const busyRatios = known('busyRatio');
  const busy = busyRatios.length > 0 ? Math.max(...busyRatios) : null;
  const backpressured = Math.max(0, ...known('ratio'));
  let state = 'idle';
  if (backpressured >= (busy ?? 0) && backpressured > 0.1) state = 'backpressured';
  else if ((busy ?? 0) > 0.1) state = 'busy';
  let fill = 'hsl(208, 100%, 92%)';
  if (state === 'backpressured') fill = `hsl(0, 0%, ${Math.round(90 - backpressured * 70)}%)`;
  if (state === 'busy') fill = `hsl(0, 100%, ${Math.round(92 - busy * 42)}%)`;
  const light = state === 'idle' || (state === 'busy' ? busy < 0.6 : backpressured < 0.5);
  return { busy, backpressured, state, fill, text: light ? '#1f2933' : '#fff' };
}

function JobGraph({ nodes, loads }) {
  if (nodes.length === 0) return html`<p class="muted">No plan.</p>`;
  if (!window.dagre)
    return html`<div class="message error">The graph layout library did not load.</div>`;
  const g = new window.dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: 230, height: 84 });
  for (const n of nodes)
    for (const i of n.inputs)
      if (g.hasNode(i.id))
        g.setEdge(i.id, n.id, { label: i.strategy, width: 90, height: 18, labelpos: 'c' });
  window.dagre.layout(g);
  const { width, height } = g.graph();
  return html`<div class="graph">
    <div class="legend">
      <span style="--c: hsl(208, 100%, 92%)">idle</span>
      <span style="--c: hsl(0, 100%, 60%)">busy</span>
      <span style="--c: hsl(0, 0%, 35%)">backpressured</span>
    </div>
    <svg
      data-testid="job-graph"
      width=${width}
      height=${height}
      viewBox=${`0 0 ${width} ${height}`}
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" fill="#7b8794" />
        </marker>
      </defs>
      ${g.edges().map((e) => {
        const edge = g.edge(e);
        const d = edge.points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ');
        return html`<g class="edge" data-from=${e.v} data-to=${e.w}>
          <path d=${d} fill="none" stroke="#7b8794" stroke-width="1.5" marker-end="url(#arrow)" />
          <rect
            x=${edge.x - 45}
            y=${edge.y - 9}
            width="90"
            height="18"
            rx="3"
            fill="#fff"
            stroke="#cbd2d9"
          />
          <text x=${edge.x} y=${edge.y + 4} text-anchor="middle" fill="#3e4c59">${edge.label}</text>
        </g>`;
      })}
      ${nodes.map((n) => {
        const p = g.node(n.id);
        const load = loads[n.id];
        const x = p.x - p.width / 2;
        const y = p.y - p.height / 2;
        const name = n.name.length > 32 ? `${n.name.slice(0, 31)}…` : n.name;
        return html`<g class="vertex" data-vertex-id=${n.id} data-state=${load?.state ?? 'unknown'}>
          <title>${n.name}</title>
          <rect
            x=${x}
            y=${y}
            width=${p.width}
            height=${p.height}
            rx="4"
            fill=${load?.fill ?? '#fff'}
            stroke="#52606d"
          />
          <text x=${x + 10} y=${y + 20} font-weight="600" fill=${load?.text ?? '#1f2933'}
            >${name}</text
          >
          <text x=${x + 10} y=${y + 40} fill=${load?.text ?? '#1f2933'}
            >Parallelism: ${n.parallelism}</text
          >
          <text x=${x + 10} y=${y + 58} fill=${load?.text ?? '#1f2933'}>
            Backpressured (max): ${load ? pct(load.backpressured) : '-'}
          </text>
          <text x=${x + 10} y=${y + 75} fill=${load?.text ?? '#1f2933'}
            >Busy (max): ${load && load.busy !== null ? pct(load.busy) : '-'}</text
          >
        </g>`;
      })}
    </svg>
  </div>`;
}

function useAction() {
  const [message, setMessage] = useState(undefined);
  const run = useCallback(async (label, fn) => {
    setMessage({ text: `${label}…` });
    try {
      setMessage({ text: await fn() });
    } catch (e) {
      setMessage({ text: `${label} failed: ${e.message}`, error: true });
    }
  }, []);
  return [message, run];
}

/** Polls Flink's asynchronous savepoint operation until it completes: its location, or its failure. */
async function awaitSavepoint(jobId, triggerId) {
  for (;;) {
    const r = await api(`/jobs/${jobId}/savepoints/${triggerId}`);
    if (r.status?.id === 'COMPLETED') {
      const cause = r.operation?.['failure-cause'];
      if (cause) throw new Error(cause['stack-trace']?.split('\n')[0] ?? cause.class);
      return r.operation.location;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function awaitCheckpoint(jobId, triggerId) {
  for (;;) {
    const r = await api(`/jobs/${jobId}/checkpoints/${triggerId}`);
    if (r.status?.id === 'COMPLETED') {
      const cause = r.operation?.['failure-cause'];
      if (cause) throw new Error(cause['stack-trace']?.split('\n')[0] ?? cause.class);
      return r.operation?.checkpointId;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function JobActions({ job }) {
  const [target, setTarget] = useState('');
  const [message, run] = useAction();
  const id = job.jid;
  const running = job.state === 'RUNNING';
  const body = (field) => (target ? { [field]: target } : {});
  return html`<div>
    <div class="actions">
      <input
        type="text"
        placeholder="Savepoint directory (default: state.savepoints.dir)"
        size="44"
        data-testid="savepoint-target"
        value=${target}
        onInput=${(e) => setTarget(e.target.value)}
      />
      <button
        data-testid="trigger-savepoint"
        disabled=${!running}
        onClick=${() =>
          run('Savepoint', async () => {
            const r = await api(`/jobs/${id}/savepoints`, {
              method: 'POST',
              json: { ...body('target-directory'), 'cancel-job': false },
            });
            return `Savepoint completed: ${await awaitSavepoint(id, r['request-id'])}`;
          })}
      >
        Trigger savepoint
      </button>
      <button
        class="secondary"
        data-testid="stop-with-savepoint"
        disabled=${!running || !job.isStoppable}
        onClick=${() =>
          run('Stop with savepoint', async () => {
            const r = await api(`/jobs/${id}/stop`, {
              method: 'POST',
              json: { ...body('targetDirectory'), drain: false },
            });
            return `Stopped with savepoint: ${await awaitSavepoint(id, r['request-id'])}`;
          })}
      >
        Stop with savepoint
      </button>
      <button
        class="secondary"
        data-testid="trigger-checkpoint"
        disabled=${!running}
        onClick=${() =>
          run('Checkpoint', async () => {
            const r = await api(`/jobs/${id}/checkpoints`, { method: 'POST', json: {} });
            return `Checkpoint completed: ${await awaitCheckpoint(id, r['request-id'])}`;
          })}
      >
        Trigger checkpoint
      </button>
      <button
        class="danger"
        data-testid="cancel-job"
        disabled=${TERMINAL.has(job.state)}
        onClick=${() => {
          if (!window.confirm(`Cancel job ${job.name}?`)) return;
          void run('Cancel', async () => {
            await api(`/jobs/${id}?mode=cancel`, { method: 'PATCH' });
            return 'Cancellation requested';
          });
        }}
      >
        Cancel job
      </button>
    </div>
    ${message && html`<div data-testid="action-result" class=${`message${message.error ? ' error' : ''}`}>${message.text}</div>`}
  </div>`;
}

function JobPage({ id, tab }) {
  const job = usePoll(`/jobs/${id}`);
  const plan = usePoll(`/jobs/${id}/plan`);
  const j = job.data;
  const vertices = j?.vertices ?? [];
  const running = j?.state === 'RUNNING';
  const bps = usePollAll(
    running ? vertices.map((v) => `/jobs/${id}/vertices/${v.id}/backpressure`) : [],
  );
  const loads = {};
  vertices.forEach((v, i) => {
    const l = vertexLoad(bps.data?.[i]);
    if (l) loads[String(v.id)] = l;
  });
  if (!j)
    return html`<div>
      <${ErrorMessage} error=${job.error} />${!job.error && html`<${Loading} />`}
    </div>`;
  const summary = [
    `Started ${fmtTime(j['start-time'])}`,
    `Duration ${fmtDuration(j.duration)}`,
    `Restarts ${j['num-restarts'] ?? 0}`,
  ].join(' · ');
  return html`<div>
    <header class="top">
      <h1 data-testid="job-name">${j.name} <${State} s=${j.state} /></h1>
      <span class="muted">${id}</span>
    </header>
    <div class="muted">${summary}</div>
    <${ErrorMessage} error=${job.error} />
    <${JobActions} job=${j} />
    <${JobGraph} nodes=${planNodes(plan.data, j)} loads=${running ? loads : {}} />
    <div class="tabs">
      ${TABS.map(([t, label]) => html`<a href=${`#/job/${id}/${t}`} class=${t === tab ? 'active' : ''} data-testid=${`tab-${t}`}>${label}</a>`)}
    </div>
    ${tab === 'overview' && html`<${VerticesTab} vertices=${vertices} />`}
    ${
      tab === 'overview' &&
      running &&
      html`<h2>Throughput</h2>
        <${ThroughputChart} vertices=${vertices} />`
    }
    ${tab === 'backpressure' && html`<${BackpressureTab} vertices=${vertices} bps=${bps.data} running=${running} />`}
    ${tab === 'watermarks' && html`<${WatermarksTab} id=${id} vertices=${vertices} />`}
    ${tab === 'checkpoints' && html`<${CheckpointsTab} id=${id} vertices=${vertices} />`}
    ${tab === 'state' && html`<${StateTab} id=${id} vertices=${vertices} />`}
    ${tab === 'exceptions' && html`<${ExceptionsTab} id=${id} />`}
    ${tab === 'configuration' && html`<${JobConfigTab} id=${id} />`}
  </div>`;
}

const CHART_POINTS = 120;
const COLORS = ['#1765ad', '#c92a2a', '#2f9e44', '#f08c00', '#7048e8', '#0c8599'];

/**
 * Records per second of each vertex, from the counters of successive polls (received for
 * vertices with inputs, sent for sources), over the last CHART_POINTS polls of this page.
 */
function ThroughputChart({ vertices }) {
  const el = useRef(null);
  const chart = useRef(null);
  const samples = useRef([]);
  const last = samples.current[samples.current.length - 1];
  const now = Date.now() / 1000;
  const counts = vertices.map((v) =>
    v.metrics?.['read-records'] > 0
      ? v.metrics['read-records']
      : (v.metrics?.['write-records'] ?? 0),
  );
  // A sample per answer of /jobs/:id (a new vertices array), not per render.
  const seen = useRef(undefined);
  if (seen.current !== vertices && (!last || now - last.t >= 0.5)) {
    seen.current = vertices;
    samples.current.push({ t: now, counts });
    if (samples.current.length > CHART_POINTS + 1) samples.current.shift();
  }
  const series = vertices.map(
    (v) => `${v.name}${v.metrics?.['read-records'] > 0 ? ' in' : ' out'}`,
  );
  const key = series.join('\n');
  useEffect(() => {
    if (!el.current) return undefined;
    chart.current = new uPlot(
      {
        width: el.current.clientWidth || 800,
        height: 200,
        series: [
          {},
          ...series.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2 })),
        ],
        axes: [{}, { label: 'records/s', size: 70 }],
      },
      [[], ...series.map(() => [])],
      el.current,
    );
    return () => chart.current?.destroy();
  }, [key]);
  useEffect(() => {
    const points = samples.current;
    const data = [points.slice(1).map((p) => p.t)];
    vertices.forEach((_, i) => {
      data.push(
        points
          .slice(1)
          .map((p, j) =>
            Math.max(0, ((p.counts[i] ?? 0) - (points[j].counts[i] ?? 0)) / (p.t - points[j].t)),
          ),
      );
    });
    chart.current?.setData(data);
  });
  return html`<div class="chart" data-testid="throughput-chart" ref=${el}></div>`;
}

function VerticesTab({ vertices }) {
  return html`<table data-testid="vertices">
    <thead>
      <tr>
        <th>Name</th>
        <th class="num">Parallelism</th>
        <th>Status</th>
        <th class="num">Bytes received</th>
        <th class="num">Records received</th>
        <th class="num">Bytes sent</th>
        <th class="num">Records sent</th>
      </tr>
    </thead>
    <tbody>
      ${vertices.map(
        (v) =>
          html`<tr data-vertex-id=${v.id}>
            <td>${v.name}</td>
            <td class="num">${v.parallelism}</td>
            <td><${State} s=${v.status} /></td>
            <td class="num">${fmtBytes(v.metrics?.['read-bytes'])}</td>
            <td class="num">${fmtNum(v.metrics?.['read-records'])}</td>
            <td class="num">${fmtBytes(v.metrics?.['write-bytes'])}</td>
            <td class="num">${fmtNum(v.metrics?.['write-records'])}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function BackpressureTab({ vertices, bps, running }) {
  if (!running) return html`<p class="muted">Backpressure is measured for running jobs only.</p>`;
  return html`<div data-testid="backpressure">
    ${vertices.map((v, i) => {
      const bp = bps?.[i];
      if (!bp)
        return html`<h2>${v.name}</h2>
          <${Loading} />`;
      if (bp.__error)
        return html`<h2>${v.name}</h2>
          <${ErrorMessage} error=${bp.__error} />`;
      return html`<h2 data-vertex-id=${v.id}>
          ${v.name} <${State} s=${bp['backpressure-level'] ?? 'ok'} />
        </h2>
        <table data-vertex-id=${v.id}>
          <thead>
            <tr>
              <th>Subtask</th>
              <th>Backpressured</th>
              <th>Idle</th>
              <th>Busy</th>
              <th>Level</th>
            </tr>
          </thead>
          <tbody>
            ${(bp.subtasks ?? []).map(
              (s) =>
                html`<tr>
                  <td>${s.subtask}</td>
                  <td>
                    <span class="bar"><div style=${`width:${pct(s.ratio)}`}></div></span>
                    ${pct(s.ratio)}
                  </td>
                  <td>${pct(s.idleRatio)}</td>
                  <td>${pct(s.busyRatio)}</td>
                  <td><${State} s=${s.backpressureLevel ?? s['backpressure-level']} /></td>
                </tr>`,
            )}
          </tbody>
        </table>`;
    })}
  </div>`;
}

function WatermarksTab({ id, vertices }) {
  const wms = usePollAll(vertices.map((v) => `/jobs/${id}/vertices/${v.id}/watermarks`));
  return html`<div data-testid="watermarks">
    ${vertices.map((v, i) => {
      const w = wms.data?.[i];
      if (!w)
        return html`<h2>${v.name}</h2>
          <${Loading} />`;
      if (w.__error)
        return html`<h2>${v.name}</h2>
          <${ErrorMessage} error=${w.__error} />`;
      return html`<h2>${v.name}</h2>
        <table>
          <thead>
            <tr>
              <th>Subtask</th>
              <th>Metric</th>
              <th>Watermark</th>
            </tr>
          </thead>
          <tbody>
            ${w.map((m) => {
              const [subtask, ...name] = m.id.split('.');
              return html`<tr>
                <td>${subtask}</td>
                <td>${name.join('.')}</td>
                <td>${fmtWatermark(m.value)}</td>
              </tr>`;
            })}
          </tbody>
        </table>`;
    })}
  </div>`;
}

function CheckpointsTab({ id, vertices }) {
  const names = Object.fromEntries(vertices.map((v) => [String(v.id), v.name]));
  const stats = usePoll(`/jobs/${id}/checkpoints`);
  const config = usePoll(`/jobs/${id}/checkpoints/config`);
  const [detailId, setDetailId] = useState(undefined);
  const s = stats.data;
  return html`<div data-testid="checkpoints">
    <${ErrorMessage} error=${stats.error} />
    ${
      s &&
      html`<div class="cards">
          <${Card} label="Triggered" value=${s.counts.total} testid="checkpoints-total" />
          <${Card} label="In progress" value=${s.counts.in_progress} />
          <${Card} label="Completed" value=${s.counts.completed} testid="checkpoints-completed" />
          <${Card} label="Failed" value=${s.counts.failed} />
          <${Card} label="Restored" value=${s.counts.restored} />
        </div>
        <h2>Latest</h2>
        <table>
          <tbody>
            <tr>
              <th>Completed checkpoint</th>
              <td>
                ${s.latest?.completed ? `${s.latest.completed.id} · ${s.latest.completed.external_path}` : 'None'}
              </td>
            </tr>
            <tr>
              <th>Savepoint</th>
              <td data-testid="latest-savepoint">
                ${s.latest?.savepoint ? `${s.latest.savepoint.id} · ${s.latest.savepoint.external_path ?? s.latest.savepoint.status}` : 'None'}
              </td>
            </tr>
            <tr>
              <th>Failure</th>
              <td>
                ${s.latest?.failed ? `${s.latest.failed.id} · ${s.latest.failed.failure_message}` : 'None'}
              </td>
            </tr>
            <tr>
              <th>Restore</th>
              <td>
                ${s.latest?.restored ? `${s.latest.restored.id} · ${s.latest.restored.external_path}` : 'None'}
              </td>
            </tr>
          </tbody>
        </table>
        <h2>History</h2>
        <table data-testid="checkpoint-history">
          <thead>
            <tr>
              <th>ID</th>
              <th>Status</th>
              <th>Type</th>
              <th>Trigger time</th>
              <th class="num">End to end duration</th>
              <th class="num">State size</th>
              <th class="num">Acknowledged</th>
            </tr>
          </thead>
          <tbody>
            ${[...s.history].reverse().map(
              (c) =>
                html`<tr
                  class="clickable"
                  data-checkpoint-id=${c.id}
                  onClick=${() => setDetailId(c.id)}
                >
                  <td>${c.id}</td>
                  <td><${State} s=${c.status} /></td>
                  <td>${c.checkpoint_type}</td>
                  <td>${fmtTime(c.trigger_timestamp)}</td>
                  <td class="num">${fmtDuration(c.end_to_end_duration)}</td>
                  <td class="num">${fmtBytes(c.state_size)}</td>
                  <td class="num">${c.num_acknowledged_subtasks}/${c.num_subtasks}</td>
                </tr>`,
            )}
          </tbody>
        </table>`
    }
    ${detailId !== undefined && html`<${CheckpointDetails} id=${id} checkpointId=${detailId} names=${names} />`}
    <h2>Configuration</h2>
    ${
      config.error?.status === 404
        ? html`<p class="muted">Checkpointing is not enabled for this job.</p>`
        : config.data && html`<${KeyValues} entries=${flatten(config.data)} />`
    }
  </div>`;
}

function CheckpointDetails({ id, checkpointId, names }) {
  const d = usePoll(`/jobs/${id}/checkpoints/details/${checkpointId}`);
  const [vertex, setVertex] = useState(undefined);
  return html`<div data-testid="checkpoint-details">
    <h2>Checkpoint ${checkpointId}</h2>
    <${ErrorMessage} error=${d.error} />
    ${
      d.data &&
      html`<table>
        <thead>
          <tr>
            <th>Operator</th>
            <th>Status</th>
            <th class="num">Acknowledged</th>
            <th class="num">State size</th>
            <th class="num">End to end duration</th>
          </tr>
        </thead>
        <tbody>
          ${Object.entries(d.data.tasks ?? {}).map(
            ([vid, t]) =>
              html`<tr class="clickable" data-vertex-id=${vid} onClick=${() => setVertex(vid)}>
                <td>${names[vid] ?? vid}</td>
                <td><${State} s=${t.status} /></td>
                <td class="num">${t.num_acknowledged_subtasks}/${t.num_subtasks}</td>
                <td class="num">${fmtBytes(t.state_size)}</td>
                <td class="num">${fmtDuration(t.end_to_end_duration)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`
    }
    ${
      vertex !== undefined &&
      html`<${CheckpointSubtasks}
        id=${id}
        checkpointId=${checkpointId}
        vertex=${vertex}
        name=${names[vertex] ?? vertex}
      />`
    }
  </div>`;
}

function CheckpointSubtasks({ id, checkpointId, vertex, name }) {
  const d = usePoll(`/jobs/${id}/checkpoints/details/${checkpointId}/subtasks/${vertex}`);
  return html`<div>
    <h2>${name}: subtasks</h2>
    <${ErrorMessage} error=${d.error} />
    ${
      d.data &&
      html`<table data-testid="checkpoint-subtasks">
        <thead>
          <tr>
            <th>Subtask</th>
            <th>Status</th>
            <th>Acknowledged</th>
            <th class="num">End to end duration</th>
            <th class="num">State size</th>
            <th class="num">Sync</th>
            <th class="num">Async</th>
            <th class="num">Alignment</th>
          </tr>
        </thead>
        <tbody>
          ${(d.data.subtasks ?? []).map(
            (st) =>
              html`<tr>
                <td>${st.index}</td>
                <td><${State} s=${st.status} /></td>
                <td>${fmtTime(st.ack_timestamp)}</td>
                <td class="num">${fmtDuration(st.end_to_end_duration)}</td>
                <td class="num">${fmtBytes(st.state_size)}</td>
                <td class="num">${fmtDuration(st.checkpoint?.sync)}</td>
                <td class="num">${fmtDuration(st.checkpoint?.async)}</td>
                <td class="num">${fmtDuration(st.alignment?.duration)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`
    }
  </div>`;
}

// ---- queryable state -------------------------------------------------------------------------

const KEY_TYPES = ['string', 'number', 'bigint', 'boolean', 'json'];

/**
 * The job's queryable states (what its operators registered with the JobManager), the state size
 * of each operator as of the latest completed checkpoint (the size the TaskManagers reported with
 * their acknowledgements), and a lookup of one key.
 */
function StateTab({ id, vertices }) {
  const states = usePoll(`/jobs/${id}/state`);
  const list = states.data?.states ?? [];
  const names = Object.fromEntries(vertices.map((v) => [String(v.id), v.name]));
  const [selected, setSelected] = useState(undefined);
  const name = selected ?? list[0]?.name;
  return html`<div data-testid="state">
    <h2>Queryable state</h2>
    <${ErrorMessage} error=${states.error} />
    ${!states.data && !states.error && html`<${Loading} />`}
    ${
      states.data &&
      (list.length === 0
        ? html`<p class="muted" data-testid="queryable-states">
            This job has no queryable state: mark a state descriptor with setQueryable(name), or end
            a keyed stream with asQueryableState(name).
          </p>`
        : html`<table data-testid="queryable-states">
            <thead>
              <tr>
                <th>Name</th>
                <th>Operator</th>
                <th>Kind</th>
                <th>TTL</th>
                <th class="num">Parallelism</th>
                <th class="num">Max parallelism</th>
              </tr>
            </thead>
            <tbody>
              ${list.map(
                (s) =>
                  html`<tr
                    class=${`clickable${s.name === name ? ' selected' : ''}`}
                    data-state-name=${s.name}
                    onClick=${() => setSelected(s.name)}
                  >
                    <td>${s.name}</td>
                    <td title=${s.operatorUid ? `uid ${s.operatorUid}` : ''}>
                      ${s.operatorName ?? names[String(s.vertexId)] ?? s.vertexId}
                    </td>
                    <td>${s.kind}</td>
                    <td>${s.ttl ? 'yes' : 'no'}</td>
                    <td class="num">${s.parallelism}</td>
                    <td class="num">${s.maxParallelism}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`)
    }
    ${list.length > 0 && html`<${StateLookup} id=${id} states=${list} name=${name} onName=${setSelected} />`}
    <${StateSizes} id=${id} vertices=${vertices} />
  </div>`;
}

/** One key of one queryable state, read through the JobManager from the subtask that owns it. */
function StateLookup({ id, states, name, onName }) {
  const [key, setKey] = useState('');
  const [keyType, setKeyType] = useState('string');
  const [mode, setMode] = useState('live');
  const [result, setResult] = useState(undefined);
  const [busy, setBusy] = useState(false);
  // Numbers the answers, so a repeated lookup with the same answer is still told apart.
  const seq = useRef(0);
  const lookup = async (e) => {
    e.preventDefault();
    setBusy(true);
    const query = new URLSearchParams({ key, keyType, mode });
    let next;
    try {
      next = { answer: await api(`/jobs/${id}/state/${encodeURIComponent(name)}?${query}`) };
    } catch (error) {
      next = { error };
    }
    seq.current++;
    setResult({ ...next, seq: seq.current });
    setBusy(false);
  };
  return html`<form class="lookup" data-testid="state-lookup" onSubmit=${lookup}>
    <h2>Look up a key</h2>
    <div class="actions">
      <label
        >State
        <select data-testid="lookup-state" value=${name} onChange=${(e) => onName(e.target.value)}>
          ${states.map((s) => html`<option value=${s.name}>${s.name}</option>`)}
        </select></label
      >
      <label
        >Key
        <input
          type="text"
          size="28"
          data-testid="lookup-key"
          value=${key}
          onInput=${(e) => setKey(e.target.value)}
      /></label>
      <label
        >Key type
        <select
          data-testid="lookup-key-type"
          value=${keyType}
          onChange=${(e) => setKeyType(e.target.value)}
        >
          ${KEY_TYPES.map((t) => html`<option value=${t}>${t}</option>`)}
        </select></label
      >
      <label
        >Mode
        <select data-testid="lookup-mode" value=${mode} onChange=${(e) => setMode(e.target.value)}>
          <option value="live">live (the value now)</option>
          <option value="committed">committed (latest checkpoint)</option>
        </select></label
      >
      <button type="submit" data-testid="lookup" disabled=${busy || !name}>Look up</button>
    </div>
    ${result && html`<${LookupResult} result=${result} />`}
  </form>`;
}

function LookupResult({ result }) {
  const { answer, error, seq } = result;
  if (error) {
    if (error instanceof Unauthorized) return null;
    // 503: the job or the subtask owning the key is not running (restarting, rescaling).
    const text = error.status === 503 ? `Job restarting, retry. (${error.message})` : error.message;
    return html`<div
      class="message error"
      data-testid="lookup-result"
      data-seq=${seq}
      data-outcome=${error.status === 503 ? 'retry' : 'error'}
    >
      ${text}
    </div>`;
  }
  const where =
    `key group ${answer.keyGroup ?? '-'} · subtask ${answer.subtask ?? '-'} · ${answer.mode}` +
    (answer.checkpointId !== undefined ? ` (checkpoint ${answer.checkpointId})` : '');
  if (!answer.found)
    return html`<div
      class="message"
      data-testid="lookup-result"
      data-seq=${seq}
      data-outcome="not-found"
    >
      ${`Not found: ${answer.name} has no value for key ${JSON.stringify(answer.key)} `}
      <span class="muted">(${where})</span>
    </div>`;
  return html`<div data-testid="lookup-result" data-seq=${seq} data-outcome="found">
    <div class="muted">${answer.name}[${JSON.stringify(answer.key)}] · ${where}</div>
    <pre data-testid="lookup-value">${JSON.stringify(answer.value, null, 2)}</pre>
  </div>`;
}

const asOf = (checkpoint) =>
  checkpoint
    ? `As of checkpoint ${checkpoint.id} · ${fmtTime(checkpoint.latest_ack_timestamp)}`
    : 'Loading…';

/** State size per operator, as of the latest completed checkpoint. */
function StateSizes({ id, vertices }) {
  const stats = usePoll(`/jobs/${id}/checkpoints`);
  const latest = stats.data?.latest?.completed;
  const details = usePoll(latest ? `/jobs/${id}/checkpoints/details/${latest.id}` : undefined);
  const tasks = details.data?.tasks ?? {};
  return html`<div data-testid="state-sizes">
    <h2>State size per operator</h2>
    ${
      stats.error?.status === 404 || (stats.data && !latest)
        ? html`<p class="muted">
            No completed checkpoint yet: the sizes are those of the latest completed checkpoint.
          </p>`
        : html`<div class="muted">${asOf(latest)}</div>
            <table>
              <thead>
                <tr>
                  <th>Operator</th>
                  <th class="num">Parallelism</th>
                  <th class="num">State size</th>
                </tr>
              </thead>
              <tbody>
                ${vertices.map(
                  (v) =>
                    html`<tr data-vertex-id=${v.id}>
                      <td>${v.name}</td>
                      <td class="num">${v.parallelism}</td>
                      <td class="num">${fmtBytes(tasks[String(v.id)]?.state_size)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
    }
  </div>`;
}

function ExceptionsTab({ id }) {
  const e = usePoll(`/jobs/${id}/exceptions`);
  const entries = e.data?.exceptionHistory?.entries ?? [];
  return html`<div data-testid="exceptions">
    <${ErrorMessage} error=${e.error} />
    ${e.data && entries.length === 0 && html`<p class="muted">No exceptions.</p>`}
    ${[...entries].reverse().map(
      (x) =>
        html`<h2>
            ${`${x.exceptionName} `}
            <span class="muted"
              >${fmtTime(x.timestamp)}${x.taskManagerId ? ` · ${x.taskManagerId}` : ''}</span
            >
          </h2>
          <pre>${x.stacktrace}</pre>`,
    )}
  </div>`;
}

function JobConfigTab({ id }) {
  const c = usePoll(`/jobs/${id}/config`);
  return html`<div data-testid="job-config">
    <${ErrorMessage} error=${c.error} />
    ${c.data && html`<${KeyValues} entries=${flatten(c.data)} />`}
  </div>`;
}

// ---- TaskManagers, JobManager, submit ---------------------------------------------------------

function TaskManagers() {
  const tms = usePoll('/taskmanagers');
  const list = tms.data?.taskmanagers ?? [];
  return html`<div>
    <header class="top"><h1>TaskManagers</h1></header>
    <${ErrorMessage} error=${tms.error} />
    <table data-testid="taskmanagers-table">
      <thead>
        <tr>
          <th>ID</th>
          <th>Address</th>
          <th class="num">Slots</th>
          <th class="num">Free slots</th>
          <th class="num">CPU cores</th>
          <th class="num">Physical memory</th>
          <th>Last heartbeat</th>
        </tr>
      </thead>
      <tbody>
        ${list.map(
          (tm) =>
            html`<tr class="clickable" onClick=${() => go(`#/taskmanager/${segment(tm.id)}`)}>
              <td><a href=${`#/taskmanager/${segment(tm.id)}`}>${tm.id}</a></td>
              <td>${tm.path}</td>
              <td class="num">${tm.slotsNumber}</td>
              <td class="num">${tm.freeSlots}</td>
              <td class="num">${tm.hardware?.cpuCores}</td>
              <td class="num">${fmtBytes(tm.hardware?.physicalMemory)}</td>
              <td>${fmtTime(tm.timeSinceLastHeartbeat)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** Flink's metric list endpoints: the names without `get`, then their values with it. */
function useMetrics(path) {
  const names = usePoll(path);
  const ids = (Array.isArray(names.data) ? names.data : []).map((m) => m.id).sort();
  const values = usePoll(
    ids.length > 0 ? `${path}?get=${ids.map(encodeURIComponent).join(',')}` : undefined,
  );
  const byId = new Map((Array.isArray(values.data) ? values.data : []).map((m) => [m.id, m.value]));
  return { byId, error: names.error ?? values.error };
}

function MetricsTable({ metrics, testid }) {
  const entries = [...metrics.byId.entries()];
  return html`<${ErrorMessage} error=${metrics.error} />
    ${entries.length > 0 ? html`<${KeyValues} entries=${entries} testid=${testid} />` : html`<p class="muted" data-testid=${testid}>No metrics yet.</p>`}`;
}

const TM_TABS = [
  ['overview', 'Overview'],
  ['logs', 'Logs'],
];

function TaskManagerPage({ id, tab }) {
  const path = `/taskmanagers/${segment(id)}`;
  const tm = usePoll(path);
  return html`<div data-testid="taskmanager">
    <header class="top"><h1>TaskManager ${id}</h1></header>
    <${ErrorMessage} error=${tm.error} />
    <div class="tabs">
      ${TM_TABS.map(([t, label]) => html`<a href=${`#/taskmanager/${segment(id)}/${t}`} class=${t === tab ? 'active' : ''} data-testid=${`tm-tab-${t}`}>${label}</a>`)}
    </div>
    ${tab === 'logs' ? html`<${TaskManagerLog} path=${path} />` : html`<${TaskManagerOverview} path=${path} d=${tm.data} />`}
  </div>`;
}

/**
 * The TaskManager's latest log lines: the JobManager asks the TaskManager for them over its
 * control connection (the TaskManager's own HTTP port serves metrics only).
 */
function TaskManagerLog({ path }) {
  const logs = usePoll(`${path}/logs`);
  const log = usePoll(`${path}/log`);
  const file = logs.data?.logs?.[0];
  return html`<div>
    <h2>Log (latest lines)</h2>
    ${file && html`<div class="muted" data-testid="tm-log-file">${file.name} · ${fmtBytes(file.size)} · last line ${fmtTime(file.mtime)}</div>`}
    <${ErrorMessage} error=${log.error ?? logs.error} />
    ${log.data !== undefined && html`<pre class="log" data-testid="tm-log">${typeof log.data === 'string' ? log.data : JSON.stringify(log.data, null, 2)}</pre>`}
  </div>`;
}

function TaskManagerOverview({ path, d }) {
  const metrics = useMetrics(`${path}/metrics`);
  const m = (key) => Number(metrics.byId.get(key));
  return html`<div>
    ${
      d &&
      html`<div class="muted">${d.path} · last heartbeat ${fmtTime(d.timeSinceLastHeartbeat)}</div>
        <div class="cards">
          <${Card} label="Slots" value=${d.slotsNumber} testid="tm-slots" />
          <${Card} label="Free slots" value=${d.freeSlots} testid="tm-free-slots" />
          <${Card} label="CPU cores" value=${d.hardware?.cpuCores} />
        </div>
        <h2>Memory</h2>
        <table data-testid="tm-memory">
          <thead>
            <tr>
              <th>Type</th>
              <th class="num">Used</th>
              <th class="num">Committed</th>
              <th class="num">Total</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>Heap</td>
              <td class="num">${fmtBytes(m('Status.JVM.Memory.Heap.Used'))}</td>
              <td class="num">${fmtBytes(m('Status.JVM.Memory.Heap.Committed'))}</td>
              <td class="num">-</td>
            </tr>
            <tr>
              <td>Process (RSS)</td>
              <td class="num">${fmtBytes(m('Status.Process.Memory.RSS'))}</td>
              <td class="num">-</td>
              <td class="num">-</td>
            </tr>
            <tr>
              <td>Physical</td>
              <td class="num">${fmtBytes(d.hardware.physicalMemory - d.hardware.freeMemory)}</td>
              <td class="num">-</td>
              <td class="num">${fmtBytes(d.hardware.physicalMemory)}</td>
            </tr>
          </tbody>
        </table>
        <h2>Allocated slots</h2>
        <table>
          <thead>
            <tr>
              <th>Job</th>
            </tr>
          </thead>
          <tbody>
            ${(d.allocatedSlots ?? []).map(
              (a) =>
                html`<tr>
                  <td><a href=${`#/job/${a.jobId}`}>${a.jobId}</a></td>
                </tr>`,
            )}
          </tbody>
        </table>`
    }
    <h2>Metrics</h2>
    <${MetricsTable} metrics=${metrics} testid="tm-metrics" />
  </div>`;
}

function JobManagerPage() {
  const c = usePoll('/jobmanager/config');
  const metrics = useMetrics('/jobmanager/metrics');
  const log = usePoll('/jobmanager/log');
  return html`<div>
    <header class="top"><h1>JobManager</h1></header>
    <h2>Configuration</h2>
    <${ErrorMessage} error=${c.error} />
    ${c.data && html`<${KeyValues} testid="jm-config" entries=${c.data.map((e) => [e.key, e.value])} />`}
    <h2>Metrics</h2>
    <${MetricsTable} metrics=${metrics} testid="jm-metrics" />
    <h2>Log (latest lines)</h2>
    <${ErrorMessage} error=${log.error} />
    ${log.data !== undefined && html`<pre data-testid="jm-log">${typeof log.data === 'string' ? log.data : JSON.stringify(log.data, null, 2)}</pre>`}
  </div>`;
}

function SubmitPage() {
  const jars = usePoll('/jars');
  const [message, run] = useAction();
  const [file, setFile] = useState(undefined);
  const [parallelism, setParallelism] = useState('');
  const [args, setArgs] = useState('');
  const [savepoint, setSavepoint] = useState('');
  const upload = () =>
    run('Upload', async () => {
      const form = new FormData();
      form.append('jarfile', file, file.name);
      const r = await api('/jars/upload', { method: 'POST', body: form });
      return `Uploaded ${r.filename}`;
    });
  const submit = (jarId) =>
    run('Submit', async () => {
      const json = {};
      if (parallelism) json.parallelism = Number(parallelism);
      if (args.trim()) json.programArgsList = args.trim().split(/\s+/);
      if (savepoint) json.savepointPath = savepoint;
      const r = await api(`/jars/${encodeURIComponent(jarId)}/run`, { method: 'POST', json });
      go(`#/job/${r.jobid}`);
      return `Submitted job ${r.jobid}`;
    });
  const remove = (jarId) =>
    run('Delete', async () => {
      await api(`/jars/${encodeURIComponent(jarId)}`, { method: 'DELETE' });
      return `Deleted ${jarId}`;
    });
  return html`<div>
    <header class="top"><h1>Submit new job</h1></header>
    <div class="actions">
      <input type="file" data-testid="bundle-file" onChange=${(e) => setFile(e.target.files[0])} />
      <button data-testid="upload" disabled=${!file} onClick=${upload}>Upload</button>
    </div>
    ${message && html`<div data-testid="action-result" class=${`message${message.error ? ' error' : ''}`}>${message.text}</div>`}
    <h2>Run options</h2>
    <div class="actions">
      <label
        >Parallelism
        <input
          type="number"
          min="1"
          value=${parallelism}
          onInput=${(e) => setParallelism(e.target.value)}
      /></label>
      <label
        >Program arguments
        <input type="text" size="30" value=${args} onInput=${(e) => setArgs(e.target.value)}
      /></label>
      <label
        >Savepoint path
        <input
          type="text"
          size="30"
          value=${savepoint}
          onInput=${(e) => setSavepoint(e.target.value)}
      /></label>
    </div>
    <h2>Uploaded bundles</h2>
    <${ErrorMessage} error=${jars.error} />
    <table data-testid="jars">
      <thead>
        <tr>
          <th>Name</th>
          <th>Uploaded</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${(jars.data?.files ?? []).map(
          (f) =>
            html`<tr>
              <td>${f.name}</td>
              <td>${fmtTime(f.uploaded)}</td>
              <td class="actions">
                <button onClick=${() => submit(f.id)}>Submit</button>
                <button class="secondary" onClick=${() => remove(f.id)}>Delete</button>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

// ---- shell: routing, login --------------------------------------------------------------------

function go(hash) {
  location.hash = hash;
}

function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'job':
      return { page: 'job', id: parts[1], tab: parts[2] ?? 'overview' };
    case 'jobs':
      return { page: parts[1] === 'completed' ? 'completed' : 'running' };
    case 'taskmanagers':
      return { page: 'taskmanagers' };
    case 'taskmanager':
      return { page: 'taskmanager', id: parts[1], tab: parts[2] ?? 'overview' };
    case 'jobmanager':
      return { page: 'jobmanager' };
    case 'submit':
      return { page: 'submit' };
    default:
      return { page: 'overview' };
  }
}

function Login({ onLogin, refused }) {
  const [token, setToken] = useState('');
  return html`<form
    class="login"
    data-testid="login"
    onSubmit=${(e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, token);
      onLogin();
    }}
  >
    <h1>Nimble Dashboard</h1>
    <p>
      This cluster requires its REST token (security.rest.token). It stays in this browser tab only.
    </p>
    ${
      refused &&
      html`<div class="message error" data-testid="token-refused">
        The cluster refused this token.
      </div>`
    }
    <input
      type="password"
      name="token"
      placeholder="Token"
      value=${token}
      onInput=${(e) => setToken(e.target.value)}
    />
    <button type="submit">Sign in</button>
  </form>`;
}

const NAV = [
  ['#/overview', 'Overview', 'overview'],
  ['#/jobs/running', 'Running jobs', 'running'],
  ['#/jobs/completed', 'Completed jobs', 'completed'],
  ['#/taskmanagers', 'TaskManagers', 'taskmanagers'],
  ['#/jobmanager', 'JobManager', 'jobmanager'],
  ['#/submit', 'Submit new job', 'submit'],
];

function App() {
  const [route, setRoute] = useState(parseRoute(location.hash));
  const [needLogin, setNeedLogin] = useState(false);
  const [refused, setRefused] = useState(false);
  const [session, setSession] = useState(0);
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onHash);
    const onAuth = (wasRefused) => {
      setRefused(wasRefused);
      setNeedLogin(true);
    };
    authListeners.add(onAuth);
    return () => {
      window.removeEventListener('hashchange', onHash);
      authListeners.delete(onAuth);
    };
  }, []);
  if (needLogin)
    return html`<${Login}
      refused=${refused}
      onLogin=${() => {
        setNeedLogin(false);
        setRefused(false);
        setSession((s) => s + 1);
      }}
    />`;
  const active =
    route.page === 'job' ? 'running' : route.page === 'taskmanager' ? 'taskmanagers' : route.page;
  return html`<div class="layout" key=${session}>
    <nav class="side">
      <div class="brand">Nimble</div>
      ${NAV.map(([href, label, page]) => html`<a href=${href} class=${page === active ? 'active' : ''}>${label}</a>`)}
      ${
        sessionStorage.getItem(TOKEN_KEY) &&
        html`<a
          href="#"
          onClick=${(e) => {
            e.preventDefault();
            sessionStorage.removeItem(TOKEN_KEY);
            setNeedLogin(true);
          }}
          >Sign out</a
        >`
      }
    </nav>
    <main>
      ${route.page === 'overview' && html`<${Overview} />`}
      ${route.page === 'running' && html`<${JobList} completed=${false} />`}
      ${route.page === 'completed' && html`<${JobList} completed=${true} />`}
      ${route.page === 'job' && html`<${JobPage} key=${route.id} id=${route.id} tab=${route.tab} />`}
      ${route.page === 'taskmanagers' && html`<${TaskManagers} />`}
      ${route.page === 'taskmanager' && html`<${TaskManagerPage} key=${route.id} id=${route.id} tab=${route.tab} />`}
      ${route.page === 'jobmanager' && html`<${JobManagerPage} />`}
      ${route.page === 'submit' && html`<${SubmitPage} />`}
    </main>
  </div>`;
}

// Flink's web UI reads its refresh interval from /config (web.refresh-interval); so does this one.
api('/config')
  .then(
    (c) => {
      if (Number(c?.['refresh-interval']) > 0) refreshInterval = Number(c['refresh-interval']);
    },
    () => {},
  )
  .finally(() => {
    scheduleTick();
    render(html`<${App} />`, document.getElementById('app'));
  });

import type { TaskMetrics } from '@nimble/proto';
import type { GaugeSample, TaskMetricsSample } from '@nimble/runtime';
import { MetricLabels as L, MetricNames as N } from '@nimble/runtime';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

interface Previous {
  at: number;
  sample: TaskMetricsSample;
  rates: {
    in: number;
    out: number;
    backPressure: number;
    idle: number;
    bytesIn: number;
    bytesOut: number;
    operators: Map<string, [number, number]>;
    /** Per operator of the `level` backend: misses / reads over the last interval. */
    cacheMissRates: Map<string, number>;
  };
}

const TASK_LABELS = [L.jobId, L.jobName, L.taskName, L.subtaskIndex, L.tmId] as const;
const OPERATOR_LABELS = [...TASK_LABELS, L.operatorId, L.operatorName] as const;

/**
 * The TaskManager's Prometheus registry: process metrics, slots, and per task and operator the
 * counters its slot workers report, with per-second rates derived between two reports.
 */
export class TaskManagerMetrics {
  readonly registry = new Registry();
  private readonly previous = new Map<string, Previous>();
  private readonly labelSets = new Map<string, Record<string, string | number>[]>();
  private readonly slotsTotal: Gauge;
  private readonly slotsAvailable: Gauge;
  private readonly task: Record<string, Gauge>;
  private readonly operator: Record<string, Gauge>;
  /** Connector gauges (e.g. Kafka offsets), created on first report, by metric name. */
  private readonly connector = new Map<string, { gauge: Gauge; labelNames: string[] }>();
  /** The connector series each report key set, to remove them with the attempt. */
  private readonly connectorSets = new Map<string, [Gauge, Record<string, string | number>][]>();

  constructor(private readonly tmId: string) {
    collectDefaultMetrics({ register: this.registry, prefix: 'nimble_taskmanager_' });
    const gauge = (name: string, help: string, labelNames: readonly string[] = []): Gauge =>
      new Gauge({ name, help, labelNames, registers: [this.registry] });
    this.slotsTotal = gauge(N.tmTaskSlotsTotal, 'Task slots of this TaskManager.');
    this.slotsAvailable = gauge(N.tmTaskSlotsAvailable, 'Free task slots of this TaskManager.');
    this.task = {
      in: gauge(N.taskNumRecordsIn, 'Records the task received.', TASK_LABELS),
      out: gauge(N.taskNumRecordsOut, 'Records the task emitted.', TASK_LABELS),
      inRate: gauge(N.taskNumRecordsInPerSecond, 'Records received per second.', TASK_LABELS),
      outRate: gauge(N.taskNumRecordsOutPerSecond, 'Records emitted per second.', TASK_LABELS),
      backPressure: gauge(
        N.taskBackPressuredTimeMsPerSecond,
        'Milliseconds per second the task waited for output credit.',
        TASK_LABELS,
      ),
      watermark: gauge(N.taskCurrentInputWatermark, 'Input watermark of the task.', TASK_LABELS),
      busy: gauge(
        N.taskBusyTimeMsPerSecond,
        'Milliseconds per second the task was neither idle nor backpressured.',
        TASK_LABELS,
      ),
      idle: gauge(
        N.taskIdleTimeMsPerSecond,
        'Milliseconds per second the task waited for input.',
        TASK_LABELS,
      ),
      bytesIn: gauge(N.taskNumBytesIn, 'Bytes of network buffers received.', TASK_LABELS),
      bytesOut: gauge(N.taskNumBytesOut, 'Bytes of network buffers produced.', TASK_LABELS),
      bytesInRate: gauge(
        N.taskNumBytesInPerSecond,
        'Bytes of network buffers received per second.',
        TASK_LABELS,
      ),
      bytesOutRate: gauge(
        N.taskNumBytesOutPerSecond,
        'Bytes of network buffers produced per second.',
        TASK_LABELS,
      ),
      alignment: gauge(
        N.taskCheckpointAlignmentTime,
        'Nanoseconds the last checkpoint barrier alignment took (or the current one so far).',
        TASK_LABELS,
      ),
      startDelay: gauge(
        N.taskCheckpointStartDelayNanos,
        'Nanoseconds from the trigger of the latest checkpoint to its start at the task.',
        TASK_LABELS,
      ),
      watermarkLag: gauge(
        N.taskWatermarkLag,
        "Milliseconds of processing time ahead of the task's current watermark.",
        TASK_LABELS,
      ),
    };
    this.operator = {
      in: gauge(N.operatorNumRecordsIn, 'Records the operator received.', OPERATOR_LABELS),
      out: gauge(N.operatorNumRecordsOut, 'Records the operator emitted.', OPERATOR_LABELS),
      inRate: gauge(
        N.operatorNumRecordsInPerSecond,
        'Records received per second.',
        OPERATOR_LABELS,
      ),
      outRate: gauge(
        N.operatorNumRecordsOutPerSecond,
        'Records emitted per second.',
        OPERATOR_LABELS,
      ),
      inputWatermark: gauge(
        N.operatorCurrentInputWatermark,
        'Input watermark of the operator.',
        OPERATOR_LABELS,
      ),
      outputWatermark: gauge(
        N.operatorCurrentOutputWatermark,
        'Output watermark of the operator.',
        OPERATOR_LABELS,
      ),
      late: gauge(
        N.operatorNumLateRecordsDropped,
        'Records dropped because they arrived after their window was cleaned up.',
        OPERATOR_LABELS,
      ),
      watermarkLag: gauge(
        N.operatorWatermarkLag,
        "Milliseconds of processing time ahead of the operator's current watermark.",
        OPERATOR_LABELS,
      ),
      emitLag: gauge(
        N.operatorCurrentEmitEventTimeLag,
        'Sources: milliseconds from the event time of the last record emitted to now.',
        OPERATOR_LABELS,
      ),
      stateSize: gauge(
        N.operatorStateSize,
        "Bytes of the operator subtask's keyed state (hashmap: estimated).",
        OPERATOR_LABELS,
      ),
      cacheHits: gauge(
        N.operatorLevelCacheHits,
        "State reads the level backend's cache answered.",
        OPERATOR_LABELS,
      ),
      cacheMisses: gauge(
        N.operatorLevelCacheMisses,
        "State reads the level backend's cache did not answer.",
        OPERATOR_LABELS,
      ),
      cacheMissRate: gauge(
        N.operatorLevelCacheMissRate,
        "Share of state reads missing the level backend's cache over the last interval (0..1).",
        OPERATOR_LABELS,
      ),
      writeBufferBytes: gauge(
        N.operatorLevelWriteBufferBytes,
        "Bytes written to the level backend not yet in LevelDB's table files.",
        OPERATOR_LABELS,
      ),
      liveDataSize: gauge(
        N.operatorLevelLiveDataSize,
        "Bytes of the level backend's LevelDB files on disk.",
        OPERATOR_LABELS,
      ),
      numFilesAtLevel0: gauge(
        N.operatorLevelNumFilesAtLevel0,
        'LevelDB files at level 0 (compaction pending from 4).',
        OPERATOR_LABELS,
      ),
    };
  }

  setSlots(total: number, available: number): void {
    this.slotsTotal.set(total);
    this.slotsAvailable.set(available);
  }

  /** Records a report of an attempt's task; returns the figures for the JobManager. */
  record(jobId: string, jobName: string, attempt: number, s: TaskMetricsSample): TaskMetrics {
    const key = `${jobId}|${attempt}|${s.vertexId}|${s.subtask}`;
    const now = performance.now();
    const prev = this.previous.get(key);
    const rates = prev?.rates ?? {
      in: 0,
      out: 0,
      backPressure: 0,
      idle: 0,
      bytesIn: 0,
      bytesOut: 0,
      operators: new Map(),
      cacheMissRates: new Map(),
    };
    if (prev && now - prev.at >= 200) {
      const seconds = (now - prev.at) / 1000;
      rates.in = (s.numRecordsIn - prev.sample.numRecordsIn) / seconds;
      rates.out = (s.numRecordsOut - prev.sample.numRecordsOut) / seconds;
      rates.bytesIn = (s.numBytesIn - prev.sample.numBytesIn) / seconds;
      rates.bytesOut = (s.numBytesOut - prev.sample.numBytesOut) / seconds;
      // Idle and backpressured times are disjoint and measured on the task's thread, so over
      // the interval between its two samples they add up to at most the interval (Flink's
      // busy time is what remains of each second).
      const sampledSeconds = (s.sampledAtMs - prev.sample.sampledAtMs) / 1000;
      if (sampledSeconds > 0) {
        rates.idle = Math.min(1000, (s.idleTimeMs - prev.sample.idleTimeMs) / sampledSeconds);
        rates.backPressure = Math.min(
          1000 - rates.idle,
          (s.backPressuredTimeMs - prev.sample.backPressuredTimeMs) / sampledSeconds,
        );
      }
      for (const op of s.operators) {
        const p = prev.sample.operators.find((o) => o.operatorId === op.operatorId);
        if (p) {
          rates.operators.set(op.operatorId, [
            (op.numRecordsIn - p.numRecordsIn) / seconds,
            (op.numRecordsOut - p.numRecordsOut) / seconds,
          ]);
          if (op.level && p.level) {
            const misses = op.level.cacheMisses - p.level.cacheMisses;
            const reads = misses + op.level.cacheHits - p.level.cacheHits;
            rates.cacheMissRates.set(op.operatorId, reads > 0 ? misses / reads : 0);
          }
        }
      }
    }
    if (!prev || now - prev.at >= 200) this.previous.set(key, { at: now, sample: s, rates });
    const labels = {
      [L.jobId]: jobId,
      [L.jobName]: jobName,
      [L.taskName]: s.taskName,
      [L.subtaskIndex]: s.subtask,
      [L.tmId]: this.tmId,
    };
    const sets = [labels as Record<string, string | number>];
    this.task['in']!.set(labels, s.numRecordsIn);
    this.task['out']!.set(labels, s.numRecordsOut);
    this.task['inRate']!.set(labels, rates.in);
    this.task['outRate']!.set(labels, rates.out);
    this.task['backPressure']!.set(labels, rates.backPressure);
    this.task['watermark']!.set(labels, s.currentInputWatermark);
    this.task['idle']!.set(labels, rates.idle);
    const busy = Math.max(0, 1000 - rates.idle - rates.backPressure);
    this.task['busy']!.set(labels, busy);
    this.task['bytesIn']!.set(labels, s.numBytesIn);
    this.task['bytesOut']!.set(labels, s.numBytesOut);
    this.task['bytesInRate']!.set(labels, rates.bytesIn);
    this.task['bytesOutRate']!.set(labels, rates.bytesOut);
    this.task['alignment']!.set(labels, s.checkpointAlignmentTimeNanos);
    this.task['startDelay']!.set(labels, s.checkpointStartDelayNanos);
    setOrRemove(this.task['watermarkLag']!, labels, s.watermarkLag);
    for (const op of s.operators) {
      const ol = { ...labels, [L.operatorId]: op.operatorId, [L.operatorName]: op.operatorName };
      sets.push(ol);
      const [inRate, outRate] = rates.operators.get(op.operatorId) ?? [0, 0];
      this.operator['in']!.set(ol, op.numRecordsIn);
      this.operator['out']!.set(ol, op.numRecordsOut);
      this.operator['inRate']!.set(ol, inRate);
      this.operator['outRate']!.set(ol, outRate);
      this.operator['inputWatermark']!.set(ol, op.currentInputWatermark);
      this.operator['outputWatermark']!.set(ol, op.currentOutputWatermark);
      this.operator['late']!.set(ol, op.numLateRecordsDropped);
      setOrRemove(this.operator['watermarkLag']!, ol, op.watermarkLag);
      setOrRemove(this.operator['emitLag']!, ol, op.currentEmitEventTimeLag);
      setOrRemove(this.operator['stateSize']!, ol, op.stateSize);
      const level = op.level;
      setOrRemove(this.operator['cacheHits']!, ol, level?.cacheHits);
      setOrRemove(this.operator['cacheMisses']!, ol, level?.cacheMisses);
      setOrRemove(
        this.operator['cacheMissRate']!,
        ol,
        level ? (rates.cacheMissRates.get(op.operatorId) ?? 0) : null,
      );
      setOrRemove(this.operator['writeBufferBytes']!, ol, level?.writeBufferBytes);
      setOrRemove(this.operator['liveDataSize']!, ol, level?.liveDataSize);
      setOrRemove(this.operator['numFilesAtLevel0']!, ol, level?.numFilesAtLevel0);
      for (const g of op.gauges) this.setConnectorGauge(key, ol, g);
    }
    this.labelSets.set(key, sets);
    return {
      vertexId: s.vertexId,
      subtask: s.subtask,
      numRecordsIn: s.numRecordsIn,
      numRecordsOut: s.numRecordsOut,
      currentInputWatermark: s.currentInputWatermark,
      numLateRecordsDropped: s.numLateRecordsDropped,
      backPressuredTimeMsPerSecond: rates.backPressure,
      numRecordsInPerSecond: rates.in,
      numRecordsOutPerSecond: rates.out,
      busyTimeMsPerSecond: busy,
      idleTimeMsPerSecond: rates.idle,
      numBytesIn: s.numBytesIn,
      numBytesOut: s.numBytesOut,
      numBytesInPerSecond: rates.bytesIn,
      numBytesOutPerSecond: rates.bytesOut,
    };
  }

  private setConnectorGauge(
    key: string,
    operatorLabels: Record<string, string | number>,
    g: GaugeSample,
  ): void {
    const name = `nimble_taskmanager_job_task_operator_${g.name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
    const extra = Object.keys(g.labels)
      .map((k) => k.replace(/[^a-zA-Z0-9_]/g, '_'))
      .sort();
    let entry = this.connector.get(name);
    if (!entry) {
      const labelNames = [...OPERATOR_LABELS, ...extra];
      entry = {
        labelNames,
        gauge: new Gauge({
          name,
          help: `Connector metric ${g.name}.`,
          labelNames,
          registers: [this.registry],
        }),
      };
      this.connector.set(name, entry);
    }
    // A gauge reported with other label names than its first report cannot be exported.
    if (entry.labelNames.length !== OPERATOR_LABELS.length + extra.length) return;
    const labels: Record<string, string | number> = { ...operatorLabels };
    for (const [k, v] of Object.entries(g.labels)) labels[k.replace(/[^a-zA-Z0-9_]/g, '_')] = v;
    if (!entry.labelNames.every((n) => n in labels)) return;
    entry.gauge.set(labels, g.value);
    let sets = this.connectorSets.get(key);
    if (!sets) this.connectorSets.set(key, (sets = []));
    if (!sets.some(([gauge, l]) => gauge === entry.gauge && sameLabels(l, labels)))
      sets.push([entry.gauge, labels]);
  }

  /** Drops the series of an attempt that ended here. */
  forget(jobId: string, attempt: number): void {
    const prefix = `${jobId}|${attempt}|`;
    for (const [key, sets] of this.labelSets) {
      if (!key.startsWith(prefix)) continue;
      const [taskLabels, ...operatorLabels] = sets;
      for (const g of Object.values(this.task)) g.remove(taskLabels!);
      for (const ol of operatorLabels) for (const g of Object.values(this.operator)) g.remove(ol);
      for (const [gauge, labels] of this.connectorSets.get(key) ?? []) gauge.remove(labels);
      this.connectorSets.delete(key);
      this.labelSets.delete(key);
      this.previous.delete(key);
    }
  }
}

/** Sets a series, or removes it while its figure does not exist (null or undefined). */
function setOrRemove(
  gauge: Gauge,
  labels: Record<string, string | number>,
  value: number | null | undefined,
): void {
  if (value === null || value === undefined) gauge.remove(labels);
  else gauge.set(labels, value);
}

function sameLabels(
  a: Record<string, string | number>,
  b: Record<string, string | number>,
): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * Names of the metrics Nimble exports to Prometheus, after Flink's Prometheus reporter
 * (`flink_<scope>_<metric>` becomes `nimble_<scope>_<metric>`), and of their labels. One home:
 * daemons, dashboards and tests read the names from here.
 */
export const MetricNames = {
  // JobManager scope
  jmNumRegisteredTaskManagers: 'nimble_jobmanager_numRegisteredTaskManagers',
  jmTaskSlotsTotal: 'nimble_jobmanager_taskSlotsTotal',
  jmTaskSlotsAvailable: 'nimble_jobmanager_taskSlotsAvailable',
  jmNumRunningJobs: 'nimble_jobmanager_numRunningJobs',
  // JobManager job scope
  jobNumRestarts: 'nimble_jobmanager_job_numRestarts',
  jobUptime: 'nimble_jobmanager_job_uptime',
  jobLastCheckpointDuration: 'nimble_jobmanager_job_lastCheckpointDuration',
  jobLastCheckpointSize: 'nimble_jobmanager_job_lastCheckpointSize',
  jobNumberOfCompletedCheckpoints: 'nimble_jobmanager_job_numberOfCompletedCheckpoints',
  jobNumberOfFailedCheckpoints: 'nimble_jobmanager_job_numberOfFailedCheckpoints',
  jobNumberOfInProgressCheckpoints: 'nimble_jobmanager_job_numberOfInProgressCheckpoints',
  // TaskManager scope
  tmTaskSlotsTotal: 'nimble_taskmanager_taskSlotsTotal',
  tmTaskSlotsAvailable: 'nimble_taskmanager_taskSlotsAvailable',
  // TaskManager task scope
  taskNumRecordsIn: 'nimble_taskmanager_job_task_numRecordsIn',
  taskNumRecordsOut: 'nimble_taskmanager_job_task_numRecordsOut',
  taskNumRecordsInPerSecond: 'nimble_taskmanager_job_task_numRecordsInPerSecond',
  taskNumRecordsOutPerSecond: 'nimble_taskmanager_job_task_numRecordsOutPerSecond',
  taskBackPressuredTimeMsPerSecond: 'nimble_taskmanager_job_task_backPressuredTimeMsPerSecond',
  taskCurrentInputWatermark: 'nimble_taskmanager_job_task_currentInputWatermark',
  taskBusyTimeMsPerSecond: 'nimble_taskmanager_job_task_busyTimeMsPerSecond',
  taskIdleTimeMsPerSecond: 'nimble_taskmanager_job_task_idleTimeMsPerSecond',
  taskNumBytesIn: 'nimble_taskmanager_job_task_numBytesIn',
  taskNumBytesOut: 'nimble_taskmanager_job_task_numBytesOut',
  taskNumBytesInPerSecond: 'nimble_taskmanager_job_task_numBytesInPerSecond',
  taskNumBytesOutPerSecond: 'nimble_taskmanager_job_task_numBytesOutPerSecond',
  taskCheckpointAlignmentTime: 'nimble_taskmanager_job_task_checkpointAlignmentTime',
  taskCheckpointStartDelayNanos: 'nimble_taskmanager_job_task_checkpointStartDelayNanos',
  taskWatermarkLag: 'nimble_taskmanager_job_task_watermarkLag',
  // TaskManager operator scope
  operatorNumRecordsIn: 'nimble_taskmanager_job_task_operator_numRecordsIn',
  operatorNumRecordsOut: 'nimble_taskmanager_job_task_operator_numRecordsOut',
  operatorNumRecordsInPerSecond: 'nimble_taskmanager_job_task_operator_numRecordsInPerSecond',
  operatorNumRecordsOutPerSecond: 'nimble_taskmanager_job_task_operator_numRecordsOutPerSecond',
  operatorCurrentInputWatermark: 'nimble_taskmanager_job_task_operator_currentInputWatermark',
  operatorCurrentOutputWatermark: 'nimble_taskmanager_job_task_operator_currentOutputWatermark',
  operatorNumLateRecordsDropped: 'nimble_taskmanager_job_task_operator_numLateRecordsDropped',
  operatorWatermarkLag: 'nimble_taskmanager_job_task_operator_watermarkLag',
  operatorCurrentEmitEventTimeLag: 'nimble_taskmanager_job_task_operator_currentEmitEventTimeLag',
  /** Exported by the Kafka source reader as a connector gauge (`pendingRecords`). */
  operatorPendingRecords: 'nimble_taskmanager_job_task_operator_pendingRecords',
  operatorStateSize: 'nimble_taskmanager_job_task_operator_stateSize',
  // TaskManager operator scope, `level` state backend
  operatorLevelCacheHits: 'nimble_taskmanager_job_task_operator_level_cacheHits',
  operatorLevelCacheMisses: 'nimble_taskmanager_job_task_operator_level_cacheMisses',
  operatorLevelCacheMissRate: 'nimble_taskmanager_job_task_operator_level_cacheMissRate',
  operatorLevelWriteBufferBytes: 'nimble_taskmanager_job_task_operator_level_writeBufferBytes',
  operatorLevelLiveDataSize: 'nimble_taskmanager_job_task_operator_level_liveDataSize',
  operatorLevelNumFilesAtLevel0: 'nimble_taskmanager_job_task_operator_level_numFilesAtLevel0',
} as const;

/** Label names (Flink's variables without the angle brackets). */
export const MetricLabels = {
  jobId: 'job_id',
  jobName: 'job_name',
  taskName: 'task_name',
  subtaskIndex: 'subtask_index',
  operatorId: 'operator_id',
  operatorName: 'operator_name',
  tmId: 'tm_id',
} as const;

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
  // TaskManager operator scope
  operatorNumRecordsIn: 'nimble_taskmanager_job_task_operator_numRecordsIn',
  operatorNumRecordsOut: 'nimble_taskmanager_job_task_operator_numRecordsOut',
  operatorNumRecordsInPerSecond: 'nimble_taskmanager_job_task_operator_numRecordsInPerSecond',
  operatorNumRecordsOutPerSecond: 'nimble_taskmanager_job_task_operator_numRecordsOutPerSecond',
  operatorCurrentInputWatermark: 'nimble_taskmanager_job_task_operator_currentInputWatermark',
  operatorCurrentOutputWatermark: 'nimble_taskmanager_job_task_operator_currentOutputWatermark',
  operatorNumLateRecordsDropped: 'nimble_taskmanager_job_task_operator_numLateRecordsDropped',
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

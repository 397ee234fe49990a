// Original file: proto/nimble/v1/jobmanager.proto


export interface HardwareDescription {
  'cpuCores'?: (number);
  'physicalMemory'?: (number | string);
  'freeMemory'?: (number | string);
}

export interface HardwareDescription__Output {
  'cpuCores': (number);
  'physicalMemory': (number);
  'freeMemory': (number);
}

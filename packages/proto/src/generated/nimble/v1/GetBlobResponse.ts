// Original file: proto/nimble/v1/jobmanager.proto


export interface GetBlobResponse {
  'content'?: (Buffer | Uint8Array | string);
}

export interface GetBlobResponse__Output {
  'content': (Buffer);
}

import { describe, expect, it } from 'vitest';
import { CommittedStateReader, CommittedStateUnavailableError } from '../src/committed-state.js';

// The cases without a checkpoint to read; reads of checkpoint files are tested on a cluster
// (test/queryable-state.test.ts, both backends, incremental level chains included).
describe('CommittedStateReader without a completed checkpoint', () => {
  const reader = new CommittedStateReader();
  const target = { jobId: 'j1', operatorUid: 'spend', stateName: 'spend' };
  const noFileSystem = () => {
    throw new Error('no file is read without a checkpoint');
  };

  it('asks to retry while checkpointing is on and none completed yet', async () => {
    const read = reader.read(noFileSystem, target, undefined, true, ['u1']);
    await expect(read).rejects.toBeInstanceOf(CommittedStateUnavailableError);
    await expect(read).rejects.toMatchObject({
      retryable: true,
      message:
        'Job j1 has no completed checkpoint yet: committed reads answer from the latest completed checkpoint; retry after the first one completes, or read with mode=live',
    });
  });

  it('says that a job without checkpointing has no committed state', async () => {
    await expect(reader.read(noFileSystem, target, undefined, false, ['u1'])).rejects.toMatchObject(
      {
        retryable: false,
        message:
          'Job j1 does not take checkpoints, so it has no committed state: read with mode=live, or enable checkpointing (execution.checkpointing.interval)',
      },
    );
  });
});

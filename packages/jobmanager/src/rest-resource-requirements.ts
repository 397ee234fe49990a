// GET and PUT /jobs/:id/resource-requirements (Flink's adaptive scheduler; docs/scaling.md).
import type { JobMaster } from './job-master.js';
import type { ResourceRequirementsBody } from './resource-requirements.js';
import { parseRequirementsBody, requirementsBody, RescaleError } from './resource-requirements.js';
import { RestError } from './rest-error.js';

/** The job's requirements, in Flink's shape. */
export function getResourceRequirements(job: JobMaster): ResourceRequirementsBody {
  return requirementsBody(job.resourceRequirements());
}

/**
 * Sets the job's requirements. As in Flink, the answer comes once they are accepted, before the
 * job runs at them (watch `/jobs/:id`): 400 for a body that names the vertices or bounds wrong,
 * 409 when the job is not running, is rescaling already, or has too few slots.
 */
export function putResourceRequirements(job: JobMaster, body: unknown): Record<string, never> {
  try {
    const requirements = parseRequirementsBody(body, job.submitted.plan);
    job.updateResourceRequirements(requirements).catch(() => {
      // The job master logs a rescale that fails after it began; the job runs on or fails over.
    });
  } catch (e) {
    if (e instanceof RescaleError)
      throw new RestError(e.reason === 'invalid' ? 400 : 409, e.message);
    throw e;
  }
  return {};
}

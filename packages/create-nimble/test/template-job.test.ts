// The template's own test (test/job.test.ts of every new project), run here on the workspace's
// packages: a change of the API or the test kit that breaks a new project fails in seconds,
// before the end-to-end test (test/project-template.test.ts) installs the packed packages.
import '../template/test/job.test.js';

// The public surface of create-nimble: the project template's writer, which `nimble init` uses too.
export { main } from './main.js';
export type { Output } from './main.js';
export { projectNameProblem } from './project-name.js';
export { nextSteps, ProjectSetupError, TEMPLATE_DIR, writeProject } from './write-project.js';
export type { ProjectOptions, WrittenProject } from './write-project.js';

// `nimble init <dir>`: a new project from create-nimble's template (the same files as
// `npm create nimble`), so a project can start from the CLI a user already has.
import type { Command } from 'commander';
import { nextSteps, ProjectSetupError, writeProject } from 'create-nimble';
import { CommandError } from './commands.js';
import { ExitCode } from './exit-codes.js';

export interface InitFlags {
  /** The package name; default: the directory's name. */
  readonly name?: string;
  /** A directory of package tarballs to install the Nimble packages from. */
  readonly packages?: string;
}

/** Writes the project and prints the next steps; a bad name or a non-empty directory exits 2. */
export function initProject(dir: string, flags: InitFlags, write: (text: string) => void): number {
  try {
    write(nextSteps(writeProject(dir, { name: flags.name, packages: flags.packages })));
    return ExitCode.OK;
  } catch (e) {
    if (e instanceof ProjectSetupError) throw new CommandError(e.message, ExitCode.USAGE);
    throw e;
  }
}

/** Adds `nimble init` to the program. */
export function addInitCommand(program: Command, exit: (code: number) => void): void {
  program
    .command('init')
    .description(
      'write a new project to <dir>: a job, a test of it, tsconfig.json and package.json with ' +
        'the scripts dev, test, typecheck and submit',
    )
    .argument('<dir>', 'directory of the project (created; must not exist or be empty)')
    .option('--name <name>', "the project's package name (default: the directory's name)")
    .option(
      '--packages <dir>',
      'install the Nimble packages from the tarballs in <dir> (`pnpm pack:packages` in a Nimble ' +
        'checkout writes them to build/packages) instead of the npm registry',
    )
    .addHelpText(
      'after',
      '\nExample:\n  nimble init my-pipeline && cd my-pipeline && npm install && npm test\n' +
        '\nThe same as: npm create nimble@latest my-pipeline\n',
    )
    .action((dir: string, flags: InitFlags) =>
      exit(initProject(dir, flags, (text) => void process.stdout.write(text))),
    );
}

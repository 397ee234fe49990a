// The create-nimble command: `npm create nimble@latest <directory>` runs it.
import { parseArgs } from 'node:util';
import { nextSteps, ProjectSetupError, writeProject } from './write-project.js';

const USAGE = `Usage: create-nimble <directory> [--name <name>] [--packages <dir>]

Writes a new Nimble project to <directory> (created; it must not exist or be empty): a job, a
test of the job, tsconfig.json and package.json with the scripts dev, test, typecheck and submit.

  npm create nimble@latest my-pipeline

Options:
  --name <name>      the package name (default: the directory's name)
  --packages <dir>   install the Nimble packages from the tarballs in <dir> (pnpm pack:packages
                     in a Nimble checkout writes them to build/packages) instead of the registry
  -h, --help         show this help
`;

/** Where the command writes: stdout and stderr by default, a test's buffers in tests. */
export interface Output {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const processOutput: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Runs create-nimble with `args` (without node and the script); returns the exit code. */
export function main(args: readonly string[], output: Output = processOutput): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        name: { type: 'string' },
        packages: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (e) {
    output.err(`create-nimble: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    output.out(USAGE);
    return 0;
  }
  const [dir, ...extra] = parsed.positionals;
  if (dir === undefined || extra.length > 0) {
    output.err(
      `create-nimble: ${dir === undefined ? 'give the directory of the new project' : `one directory only; got ${parsed.positionals.join(' ')}`}\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    output.out(
      nextSteps(writeProject(dir, { name: parsed.values.name, packages: parsed.values.packages })),
    );
    return 0;
  } catch (e) {
    if (!(e instanceof ProjectSetupError)) throw e;
    output.err(`create-nimble: ${e.message}\n`);
    return 2;
  }
}

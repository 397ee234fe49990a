import { parseArgs } from 'node:util';

/**
 * Reads `--name value` options of an example job; unknown options are an error that lists the
 * known ones. A number option takes a finite number, or `Infinity` when it is one of `unbounded`
 * (an event count whose source then never ends).
 */
export function jobArgs<T extends Record<string, string | number>>(
  defaults: T,
  options: { readonly unbounded?: readonly (keyof T & string)[] } = {},
): T {
  const unbounded: readonly string[] = options.unbounded ?? [];
  const parseOptions = Object.fromEntries(
    Object.keys(defaults).map((k) => [k, { type: 'string' as const }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: cliArgs(),
      options: parseOptions,
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (e) {
    const known = Object.entries(defaults)
      .map(([k, v]) => `--${k} (default ${v})`)
      .join(', ');
    throw new Error(`${(e as Error).message}. Options: ${known}`);
  }
  const out: Record<string, string | number> = { ...defaults };
  for (const [k, v] of Object.entries(values)) {
    if (typeof v !== 'string') continue;
    if (typeof defaults[k] === 'number') {
      const n = Number(v);
      if (n === Infinity && unbounded.includes(k)) {
        out[k] = n;
        continue;
      }
      if (!Number.isFinite(n)) {
        const what = unbounded.includes(k) ? 'a number or Infinity' : 'a number';
        throw new Error(`--${k} needs ${what}; got ${JSON.stringify(v)}`);
      }
      out[k] = n;
    } else {
      out[k] = v;
    }
  }
  return out as T;
}

/** The program's arguments, without the `--` that `pnpm run script -- ...` may pass along. */
function cliArgs(): string[] {
  const args = process.argv.slice(2);
  return args[0] === '--' ? args.slice(1) : args;
}

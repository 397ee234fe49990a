import { builtinModules } from 'node:module';

/** Longest package name the npm registry takes. */
const MAX_LENGTH = 214;

/**
 * Why `name` cannot be the name of a new npm package, or undefined when it can: the rules npm
 * applies to new packages (lower case, URL-safe, 214 characters at most, no leading `.` or `_`,
 * not a Node.js built-in module), scoped names (`@scope/name`) included.
 */
export function projectNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a package name cannot be empty';
  if (name.trim() !== name) return 'a package name cannot start or end with spaces';
  if (name.length > MAX_LENGTH)
    return `a package name has at most ${MAX_LENGTH} characters; this one has ${name.length}`;
  if (name.startsWith('.') || name.startsWith('_'))
    return 'a package name cannot start with a period or an underscore';
  if (name !== name.toLowerCase()) return 'a package name cannot have capital letters';
  if (/[~'!()*]/.test(name)) return "a package name cannot have any of the characters ~'!()*";
  if (name === 'node_modules' || name === 'favicon.ico') return `"${name}" is a reserved name`;
  if (builtinModules.includes(name)) return `"${name}" is the name of a Node.js built-in module`;
  const scoped = /^@([^/]+)\/([^/]+)$/.exec(name);
  const parts = scoped ? [scoped[1]!, scoped[2]!] : [name];
  if (parts.some((p) => p.startsWith('.') || p.startsWith('_')))
    return 'a package name cannot start with a period or an underscore';
  if (parts.some((p) => encodeURIComponent(p) !== p))
    return 'a package name can only have URL-safe characters: letters, digits and -._~';
  return undefined;
}

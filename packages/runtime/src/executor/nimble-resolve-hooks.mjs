// Module resolution hook of worker threads that load job bundles: a bundle keeps its
// `@nimble/api` and `@nimble/runtime` imports external (the classes must be the ones this process
// runs), but lives in a blob directory with no node_modules, so those imports resolve from this
// installation instead. The `nimble` command registers it too, for job modules anywhere.
let parentURL;

export function initialize(data) {
  parentURL = data.parentURL;
}

export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@nimble/')) {
    try {
      return await next(specifier, context);
    } catch {
      return next(specifier, { ...context, parentURL });
    }
  }
  return next(specifier, context);
}

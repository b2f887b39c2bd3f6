// dist/import-module.cjs: an import() in a file Node loads itself. Code compiled through vm.Script from a
// V8 code cache (code-cache.ts), or restored from the start-up snapshot (snapshot.ts), has no dynamic
// import callback in Node 20 ("A dynamic import callback was not specified"), so plugin modules are
// imported from here. Loaded only when a plugin module is.
import url = require('node:url');

export = (file: string): Promise<Record<string, unknown>> => import(url.pathToFileURL(file).href);

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { crc32 } from 'node:zlib';

// Node 20 has no compile cache for modules (`module.enableCompileCache` came in 22.1), and under
// software emulation compiling the CLI's bundle costs as much as Node's own start. So the bundle is
// CommonJS, loaded here through `vm.Script` with V8's code cache, which the build writes next to it.
// The cache is only a hint: V8 refuses one made by another V8 version or with other flags, the digest
// below one made for other source text or damaged; either way the bundle is compiled as usual.

export interface LoadedBundle<T> {
  readonly exports: T;
  /** How the code cache was used: `none` (no cache file), `accepted`, or `rejected` (stale or foreign). */
  readonly cache: 'none' | 'accepted' | 'rejected';
  /** Writes the code cache of everything compiled so far (call it after a representative run). */
  writeCache(): void;
}

const MAGIC = Buffer.from('imgbased-code-cache-3\n');
const DIGEST_LENGTH = 8;

/**
 * A cache file is MAGIC, then the CRC-32 of the source and that of the cached data, then the cached data.
 * V8 checks only its version, its flags and the source's length, and does not checksum the data. A
 * CRC finds a changed source or damaged data as surely here as a cryptographic digest (nobody forges
 * a cache for a file only root can write), and costs a tenth: SHA-256 of the bundle and its cache took
 * 130 ms of the CLI's start in the test VM.
 */
function digest(source: Buffer, data: Buffer): Buffer {
  const out = Buffer.alloc(DIGEST_LENGTH);
  out.writeUInt32BE(crc32(source), 0);
  out.writeUInt32BE(crc32(data), 4);
  return out;
}

export function cacheFileOf(bundle: string): string {
  return `${bundle}.cache`;
}

/** The cached data for `source`; undefined when there is no cache file, empty when it is not for this source. */
function readCache(file: string, source: Buffer): Buffer | undefined {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch {
    return undefined; // no cache: compile as usual
  }
  const data = content.subarray(MAGIC.length + DIGEST_LENGTH);
  const valid =
    data.length > 0 &&
    content.subarray(0, MAGIC.length).equals(MAGIC) &&
    content.subarray(MAGIC.length, MAGIC.length + DIGEST_LENGTH).equals(digest(source, data));
  return valid ? data : Buffer.alloc(0);
}

/** Loads the CommonJS file `location` (a file URL or an absolute path) as Node's loader would, with its code cache. */
export function loadBundle<T>(location: URL | string): LoadedBundle<T> {
  const bundle = location instanceof URL ? fileURLToPath(location) : location;
  const bytes = readFileSync(bundle);
  const source = bytes.toString('utf8');
  const cacheFile = cacheFileOf(bundle);
  const cachedData = readCache(cacheFile, bytes);
  // Node's CommonJS wrapper, on a line of its own that lineOffset takes back: stack traces stay exact.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, {
    filename: bundle,
    lineOffset: -1,
    // An import() in the bundle resolves as it would in a module Node loaded itself.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    ...(cachedData !== undefined && cachedData.length > 0 ? { cachedData } : {}),
  });
  const module = { exports: {} as T };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
  return {
    exports: module.exports,
    cache:
      cachedData === undefined ? 'none' : cachedData.length > 0 && !script.cachedDataRejected ? 'accepted' : 'rejected',
    writeCache() {
      const temporary = `${cacheFile}.${process.pid}.tmp`;
      const data = script.createCachedData();
      writeFileSync(temporary, Buffer.concat([MAGIC, digest(bytes, data), data]));
      renameSync(temporary, cacheFile);
    },
  };
}

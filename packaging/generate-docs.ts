// Writes the generated documentation (man pages, completions, the commented imgbased.conf) into a
// directory: packaging/build.mjs runs it at package time; `node packaging/generate-docs.mjs` (below)
// refreshes the checked-in copy in packaging/generated/ after a change of verbs, flags or settings.
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateDocs } from '../apps/cli/src/docs/index.ts';

const target = process.argv[2];
if (!target) throw new Error('usage: generate-docs DIR (see generate-docs.mjs)');
await mkdir(target, { recursive: true });
for (const [name, text] of Object.entries(await generateDocs())) await writeFile(path.join(target, name), text);

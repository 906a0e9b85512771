// Prints a digest of the command's output for every gallery and public scenario (report, --json,
// --trace), one line each, so a change meant to keep traces byte-identical can be checked:
//   npx tsx scripts/golden.ts > /tmp/before.txt; …change…; npx tsx scripts/golden.ts | diff /tmp/before.txt -
// `--out DIR` also writes each output in full, to see what differs.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main, type Io } from '../src/cli/main';
import { stringifyDocument } from '../src/model/scenario/document';
import { GALLERY } from '../src/model/scenario/gallery';

const outDir = process.argv[2] === '--out' ? process.argv[3] : undefined;
if (outDir) mkdirSync(outDir, { recursive: true });

const docs = new Map<string, string>();
for (const e of GALLERY) docs.set(`gallery/${e.id}`, stringifyDocument(e.doc));
for (const f of readdirSync('public/scenarios').sort()) docs.set(`public/${f}`, readFileSync(join('public/scenarios', f), 'utf8'));

for (const [name, text] of docs) {
  for (const flags of [[], ['--json'], ['--trace']]) {
    let out = '';
    const io: Io = {
      out: (t) => void (out += t), err: (t) => void (out += t),
      readFile: async () => text, readStdin: async () => text, writeFile: async () => {},
    };
    const status = await main(['run', 'scenario.json', ...flags], io);
    const key = `${name} ${flags.join(' ') || 'report'}`;
    if (outDir) writeFileSync(join(outDir, key.replace(/[/ ]/g, '_')), out);
    console.log(`${createHash('sha256').update(out).digest('hex').slice(0, 16)} ${status} ${key}`);
  }
}

// After `vite build`: writes a gzip copy (`name.gz`, level 9) beside every
// text file of the output, which the server sends to clients that accept
// gzip (control/whippet/src/server/ui.rs), and checks the size budget of
// the first page's JavaScript.
//
// Compressing here, once per build, costs nothing at run time and lets the
// server answer from the embedded bytes without a compressor.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const out = process.env.WHIPPET_UI_OUT || 'dist';

// The target for the JavaScript of the first page, compressed.
const FIRST_PAGE_JS_BUDGET = 300 * 1024;

const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|map)$/;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const gzSize = new Map();
for (const file of walk(out)) {
  if (!COMPRESSIBLE.test(file)) continue;
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  gzSize.set(relative(out, file), gz.length);
  // A copy that saves nothing is not worth sending.
  if (gz.length < raw.length) writeFileSync(file + '.gz', gz);
}

// The first page loads the scripts index.html names (the entry and the
// chunks Vite preloads); chunks imported later are not counted.
const html = readFileSync(join(out, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/(?:src|href)="\/([^"]+\.js)"/g)].map((m) => m[1]);
let total = 0;
for (const s of scripts) total += gzSize.get(s) ?? 0;
console.log(
  `whippet-ui: first page JavaScript ${(total / 1024).toFixed(1)} KiB gzip ` +
    `(${scripts.join(', ')}; budget ${FIRST_PAGE_JS_BUDGET / 1024} KiB)`,
);
if (total > FIRST_PAGE_JS_BUDGET) {
  console.error('whippet-ui: the first page JavaScript is over its budget');
  process.exit(1);
}

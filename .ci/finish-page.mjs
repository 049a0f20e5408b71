// Trunk post_build hook (Trunk.toml): finishes the checkout page in Trunk's staging dir.
// - Minifies the wasm-bindgen JS glue and the stylesheet with esbuild (Trunk's own minifier
//   cannot parse the glue) and keeps index.html's subresource-integrity hashes true to the
//   minified bytes.
// - Writes brotli (quality 11) and gzip (level 9) copies of each asset next to it, which the
//   server sends as they are instead of compressing on the fly at a lower quality.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('finish-page: TRUNK_STAGING_DIR is not set (run through trunk build)');
  process.exit(2);
}
const bundled = join(process.env.PAYBRIDGE_TOOLS_DIR || join(homedir(), '.cache/paybridge-tools'),
  'node_modules/.bin/esbuild');
const esbuild = existsSync(bundled) ? bundled : 'esbuild';
const sri = (bytes) => 'sha384-' + createHash('sha384').update(bytes).digest('base64');

function files(root) {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const indexPath = join(dir, 'index.html');
let index = readFileSync(indexPath, 'utf8');
for (const path of files(dir).filter((p) => /\.(js|css)$/.test(p))) {
  const before = readFileSync(path);
  const format = path.endsWith('.js') ? ['--format=esm'] : [];
  execFileSync(esbuild, [path, '--minify', ...format, '--log-level=warning',
    '--allow-overwrite', `--outfile=${path}`]);
  const after = readFileSync(path);
  index = index.split(sri(before)).join(sri(after));
  console.log(`finish-page: ${path.slice(dir.length + 1)} ${before.length} → ${after.length} bytes`);
}
writeFileSync(indexPath, index);

for (const path of files(dir).filter((p) => /\.(wasm|js|css)$/.test(p))) {
  const raw = readFileSync(path);
  writeFileSync(`${path}.br`, brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  }));
  writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }));
}

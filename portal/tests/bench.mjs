// The browser half of benches/browser_hashing.rs: opens the notary's /verify page in Debian's
// Chromium, selects $BENCH_FILE in the media input, and hashes it with SM3 only (one worker,
// the protocol crate's SM3 in WebAssembly, 4 MiB File.slice chunks), `runs` times. Prints one
// JSON line: {"bytes", "ms": [..], "sm3"}.
import { launch } from './browser.mjs';

const url = process.env.PORTAL_URL;
const file = process.env.BENCH_FILE;
const runs = Number(process.env.BENCH_RUNS || 3);
if (!url || !file) throw new Error('PORTAL_URL and BENCH_FILE must be set (run `cargo bench --bench browser_hashing`)');
const { context, close } = await launch();
try {
  const page = await context.newPage();
  await page.goto(`${url}/verify`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  await page.setInputFiles('[data-input="media"]', file);
  const out = await page.evaluate(async (n) => {
    const f = document.querySelector('[data-input="media"]').files[0];
    const ms = [];
    let sm3 = '';
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await window.tiezhengHashOne(f, 'SM3');
      ms.push(performance.now() - t);
      sm3 = r.done;
    }
    return { bytes: f.size, ms, sm3 };
  }, runs);
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await close();
}

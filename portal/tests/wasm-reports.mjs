// The WebAssembly verifier as the browser loads it (portal/www/pkg), run under Node.js on a
// list of cases: reads `[{"evidence": path, "media": digests JSON or null, "policy": path or
// null}, ...]` from the file named by the first argument and prints the JSON array of the
// reports `verify` returns, in order. portal/wasm/tests/same_as_native.rs compares them with
// the same entry compiled natively.
import { readFileSync } from 'node:fs';
import { initSync, verify } from '../www/pkg/tiezheng_wasm.js';

initSync({ module: readFileSync(new URL('../www/pkg/tiezheng_wasm_bg.wasm', import.meta.url)) });
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const reports = cases.map((c) => verify(
  new Uint8Array(readFileSync(c.evidence)),
  c.media ?? undefined,
  c.policy ? new Uint8Array(readFileSync(c.policy)) : undefined,
));
process.stdout.write(JSON.stringify(reports));

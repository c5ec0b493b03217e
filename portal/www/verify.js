// The verify page: hash the media in Web Workers, verify in WebAssembly, show the layers.
// Nothing is sent to the server: the only requests are the page, its scripts, the module and
// this notary's public policy, all made when the page loads.
import { wasm, wasmReady, HashPool, renderReport, formatBytes, bi } from './portal.js';

const $ = (id) => document.getElementById(id);
const form = $('verify-form');
const status = $('status');
const result = $('result');
const pool = new HashPool();
let notaryPolicy = null;
let courtPolicy = null;

function say(zh, en) { status.replaceChildren(bi(zh, en)); }

// A certificate's QR code opens /verify#n=<number>&c=<certificate SM3>&p=<proof SM3>&f=<file
// SM3>: the fragment never reaches the server. Show it, and compare after verification.
const fromQr = (() => {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const hex = (v) => (/^[0-9a-f]{64}$/.test(v || '') ? v : null);
  const q = { n: params.get('n'), c: hex(params.get('c')), p: hex(params.get('p')), f: hex(params.get('f')) };
  if (!q.n && !q.c && !q.p && !q.f) return null;
  $('qr-number').textContent = (q.n || '—').slice(0, 80);
  $('qr-certificate').textContent = q.c || '—';
  $('qr-proof').textContent = q.p || '—';
  $('qr-file').textContent = q.f || '—';
  $('from-qr').hidden = false;
  return q;
})();

// Every value the QR code carries is compared with what was verified; one that cannot be
// compared (no such value in the file chosen) does not match either.
function compareWithQr(expected, found, id) {
  if (!fromQr || !expected) return;
  const match = !!found && expected === found;
  $(id).replaceChildren(match
    ? bi('✓ 与核验结果一致', '✓ matches what was verified')
    : found
      ? bi('✗ 与核验结果不一致', '✗ differs from what was verified')
      : bi('✗ 无法比对：所选文件中没有此值', '✗ cannot be compared: the file chosen does not state it'));
  $(id).dataset.match = String(match);
}

async function loadNotaryPolicy() {
  try {
    const r = await fetch('/v1/ledger/policy', { cache: 'no-store' });
    if (!r.ok) throw new Error(String(r.status));
    notaryPolicy = new Uint8Array(await r.arrayBuffer());
  } catch {
    notaryPolicy = null;
  }
  showPolicy();
}

function showPolicy() {
  const bytes = courtPolicy || notaryPolicy;
  const source = courtPolicy ? ['您载入的策略文件', 'your policy file'] : notaryPolicy
    ? ['本存证平台公布的创世策略（/v1/ledger/policy，登记变更由证据包携带）', "this notary's published genesis policy (/v1/ledger/policy; registry changes come with the bundle)"]
    : ['无：将使用证据包自带的密钥（仅证明一致性）', 'none: the keys inside the bundle will be used (consistency only)'];
  $('policy-source').replaceChildren(bi(...source));
  try {
    $('policy-fingerprint').textContent = bytes ? wasm.fingerprint_policy(bytes) : '—';
  } catch (e) {
    $('policy-fingerprint').textContent = String(e.message || e);
  }
}

$('policy').addEventListener('change', async () => {
  const f = $('policy').files[0];
  courtPolicy = null;
  if (f) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    try {
      wasm.fingerprint_policy(bytes);
      courtPolicy = bytes;
    } catch (e) {
      say('这不是信任策略文件：', `not a policy file: ${e.message || e}`);
    }
  }
  showPolicy();
});

export async function verifyFiles(evidenceFile, mediaFile) {
  result.removeAttribute('data-verdict');
  result.removeAttribute('data-outcome');
  result.replaceChildren();
  const evidence = new Uint8Array(await evidenceFile.arrayBuffer());
  let media;
  if (mediaFile) {
    $('progress-area').hidden = false;
    const started = performance.now();
    const segments = JSON.parse(wasm.segment_ranges(evidence));
    const digests = await pool.hash(mediaFile, (fraction) => {
      $('progress').value = fraction;
      $('progress-text').textContent = `${Math.round(fraction * 100)} % · ${formatBytes(Math.round(fraction * mediaFile.size))} / ${formatBytes(mediaFile.size)}`;
    }, segments);
    const secs = (performance.now() - started) / 1000;
    $('progress-text').textContent = `${formatBytes(mediaFile.size)} · ${secs.toFixed(1)} s · SM3 ${digests.sm3}`;
    media = JSON.stringify(digests);
  }
  const policy = courtPolicy || notaryPolicy || undefined;
  const report = JSON.parse(wasm.verify(evidence, media, policy));
  renderReport(result, report, { policySource: courtPolicy ? 'court' : notaryPolicy ? 'notary' : 'bundle' });
  if (fromQr) {
    const cert = report.certificate || {};
    compareWithQr(fromQr.n, cert.number, 'qr-number-match');
    compareWithQr(fromQr.c, cert.sm3, 'qr-certificate-match');
    compareWithQr(fromQr.p, report.facts && report.facts.proof_sm3, 'qr-proof-match');
    compareWithQr(fromQr.f, media && JSON.parse(media).sm3, 'qr-file-match');
  }
  return report;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const evidenceFile = $('certificate').files[0];
  if (!evidenceFile) {
    say('请先选择证书或证据包。', 'Choose a certificate or bundle first.');
    $('certificate').focus();
    return;
  }
  $('verify-button').disabled = true;
  say('正在核验…', 'Verifying…');
  try {
    const report = await verifyFiles(evidenceFile, $('media').files[0]);
    say(report.verdict === 'valid' ? '核验完成：通过。' : '核验完成：未通过。',
      report.verdict === 'valid' ? 'Done: verified.' : 'Done: not verified.');
    result.focus();
  } catch (err) {
    say('核验出错：', `Verification failed to run: ${err.message || err}`);
  } finally {
    $('verify-button').disabled = false;
  }
});

// For the browser benchmark (benches/browser_hashing.mjs): one algorithm over a file.
// Also used by the tests for segment hashes.
window.tiezhengHashOne = (file, algorithm, segments = []) => pool.hashOne(file, algorithm, () => {}, segments);

Promise.all([wasmReady, pool.ready, loadNotaryPolicy()]).then(() => {
  $('verify-button').disabled = false;
  document.body.dataset.ready = 'true';
}, (e) => say('页面未能载入核验模块：', `the verifier could not load: ${e.message || e}`));

// The public check (issue 24): a certificate number and a file. The file is hashed here by the
// hashing workers and never sent; the page fetches only the number's public digest
// (GET /v1/public/certificates/{number}) and verifies it with the WebAssembly verifier against
// the policy the visitor loaded, else the operator's published one (named as such). Outcome on
// #result: data-outcome="verified" | "not-deposited" | "mismatch".
import { wasm, wasmReady, HashPool, renderReport, formatBytes, bi, el, beijing, PolicyPicker } from './portal.js';

const $ = (id) => document.getElementById(id);
const result = $('result');
const pool = new HashPool();
const NUMBER = /^TZ-[0-9]{8}-[0-9A-F]{16}$/;
let picker;

function say(zh, en, state) {
  $('status').replaceChildren(bi(zh, en));
  $('status').dataset.state = state || '';
}

const OUTCOMES = {
  verified: ['核验通过', 'Verified', 'valid'],
  'not-deposited': ['未存证', 'Not deposited', 'invalid'],
  mismatch: ['比对不一致', 'Mismatch', 'invalid'],
};

function showOutcome(outcome, detail) {
  const [zh, en, cls] = OUTCOMES[outcome];
  const box = el('div', { id: 'outcome', className: `outcome ${cls}`, 'data-outcome': outcome },
    el('h2', { className: `verdict ${cls}` }, bi(zh, en)));
  if (detail) box.append(detail);
  result.prepend(box);
  result.dataset.outcome = outcome;
}

function facts(report, media) {
  const c = report.certificate || {};
  const f = report.facts || {};
  const dl = el('dl', { className: 'facts' });
  const row = (zh, en, v) => { if (v !== undefined && v !== null && v !== '') dl.append(el('dt', {}, bi(zh, en)), el('dd', {}, v)); };
  row('证书编号', 'Certificate number', c.number);
  row('证书 SM3', 'Certificate SM3', c.sm3 && el('code', {}, c.sm3));
  row('出证方', 'Issuer', c.issuer);
  row('出具时间', 'Issued', c.issued_at && beijing(c.issued_at));
  row('文件', 'File', `${formatBytes(media.bytes)} · SM3 ${media.sm3}`);
  row('证明 SM3', 'Proof SM3', f.proof_sm3 && el('code', {}, f.proof_sm3));
  row('批次 / 高度', 'Batch / height', f.batch_seq !== undefined && f.batch_seq !== null ? `${f.batch_seq} / ${f.anchor_height}` : '');
  return dl;
}

async function fetchDigest(number) {
  const r = await fetch(`/v1/public/certificates/${encodeURIComponent(number)}`, { cache: 'no-store' });
  if (r.ok) return { bytes: new Uint8Array(await r.arrayBuffer()) };
  let body = {};
  try { body = await r.json(); } catch { /* not JSON */ }
  return { status: r.status, code: body.code, message: body.message || `HTTP ${r.status}`, retry: r.headers.get('Retry-After') };
}

async function check(number, file) {
  result.replaceChildren();
  result.removeAttribute('data-outcome');
  result.removeAttribute('data-verdict');
  $('progress-area').hidden = false;
  const started = performance.now();
  const [digest, media] = await Promise.all([
    fetchDigest(number),
    pool.hash(file, (fraction) => {
      $('progress').value = fraction;
      $('progress-text').textContent = `${Math.round(fraction * 100)} % · ${formatBytes(Math.round(fraction * file.size))} / ${formatBytes(file.size)}`;
    }, []),
  ]);
  $('progress-text').textContent = `${formatBytes(file.size)} · ${((performance.now() - started) / 1000).toFixed(1)} s · SM3 ${media.sm3}`;
  if (!digest.bytes) {
    if (digest.status === 404) {
      showOutcome('not-deposited', el('p', {}, bi('本平台没有出具过该编号的证书。请核对证书上的编号。', 'No certificate with this number was issued here. Check the number against the certificate.')));
      return 'not-deposited';
    }
    if (digest.status === 429) {
      say(`查询过于频繁，请在 ${digest.retry || '60'} 秒后重试。`, `Too many checks from this address: retry in ${digest.retry || '60'} s.`, 'error');
    } else {
      say('查询失败：', digest.message, 'error');
    }
    return null;
  }
  const policy = await picker.resolve();
  const report = JSON.parse(wasm.verify(digest.bytes, JSON.stringify(media), policy.bytes));
  const details = el('div', { id: 'report' });
  renderReport(details, report, { policySource: policy.source });
  result.append(details);
  const outcome = report.verdict === 'valid' && report.facts && report.facts.media_item !== null && report.facts.media_item !== undefined
    ? 'verified' : 'mismatch';
  const fileRefused = (report.checks || []).some((c) => c.layer === 'media' && c.status === 'fail');
  const explain = outcome === 'verified'
    ? bi('该文件与此编号证书记录的文件完全一致，且已锚定在联盟账本上。', 'The file is the one this certificate records, byte for byte, and it is anchored on the consortium ledger.')
    : fileRefused
      ? bi('证书存在，但您选择的文件不是它记录的文件（哈希不同）。', 'The certificate exists, but the file you chose is not the one it records (its hashes differ).')
      : bi('证书的公开摘要未通过核验：下方列出不成立的规则。', "The certificate's public digest does not verify: the rules that fail are listed below.");
  showOutcome(outcome, el('div', {}, el('p', {}, explain), facts(report, media)));
  return outcome;
}

$('check-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const number = $('number').value.trim().toUpperCase();
  const file = $('media').files[0];
  if (!NUMBER.test(number)) {
    say('编号格式不正确：应为 TZ-8位数字-16位十六进制，如证书所印。', 'Not a certificate number: TZ-, 8 digits, - and 16 hex digits, as printed on the certificate.', 'error');
    $('number').focus();
    return;
  }
  if (!file) {
    say('请选择要核验的文件。', 'Choose the file to check.', 'error');
    $('media').focus();
    return;
  }
  $('check-button').disabled = true;
  say('正在核验…', 'Checking…');
  try {
    const outcome = await check(number, file);
    if (outcome) say('核验完成。', 'Done.', outcome);
    result.focus();
  } catch (err) {
    say('核验出错：', `The check failed to run: ${err.message || err}`, 'error');
  } finally {
    $('check-button').disabled = false;
  }
});

Promise.all([wasmReady, pool.ready]).then(() => {
  picker = new PolicyPicker($('policy-area'));
  picker.show();
  $('check-button').disabled = false;
  document.body.dataset.ready = 'true';
}, (e) => say('页面未能载入核验模块：', `the verifier could not load: ${e.message || e}`, 'error'));

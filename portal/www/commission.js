// The court's side of a judicial appraisal on /court: the court makes and keeps its SM2 key in
// this browser (keystore.js), picks the evidence of a deposited case and an appraisal
// institution of the judicial parties, signs the commission (委托书) here in WebAssembly and
// files it; it follows its commissions and, once delivered, fetches the opinion PDF
// (鉴定意见书) and verifies it in this browser against its own policy, by the same entry as
// `tiezheng verify`.
import { wasm, bi, el, renderReport } from './portal.js';
import { KeyPanel } from './keystore.js';
import { Api, signedStep, sayError, sayDone } from './procedure.js';

const $ = (id) => document.getElementById(id);

let api;
let keys;
let picker;

async function loadEvidence() {
  const reference = $('commission-case').value.trim();
  const [items, parties] = await Promise.all([
    api.call('GET', `/v1/cases/items?reference=${encodeURIComponent(reference)}`),
    api.call('GET', '/v1/judicial-parties'),
  ]);
  const box = $('commission-items');
  box.replaceChildren(el('p', {}, bi('选择检材：', 'Choose the material:')));
  for (const p of items.proofs) {
    for (const it of p.items) {
      if (!it.sm3) continue;
      const id = `item-${p.proof_sm3.slice(0, 12)}-${it.item}`;
      box.append(el('div', {},
        el('input', { type: 'checkbox', id, 'data-proof': p.proof_sm3, 'data-file': it.file_name, 'data-sm3': it.sm3 }),
        el('label', { for: id, className: 'inline' }, `${it.file_name} (${it.mime}, #${p.device_seq}) `, el('code', {}, it.sm3.slice(0, 16) + '…'))));
    }
  }
  const select = $('commission-institution');
  select.replaceChildren(...parties.parties.filter((x) => x.role === 'appraisal_institution')
    .map((x) => el('option', { value: x.id }, x.id)));
  if (!$('commission-reference').value) $('commission-reference').value = reference;
  return ['已列出证据。', 'Evidence listed.'];
}

async function commission() {
  if (!keys.secret) throw Object.assign(new Error("unlock the court's signing key first"), { code: 'key_locked' });
  const items = [...document.querySelectorAll('#commission-items input[type=checkbox]:checked')]
    .map((c) => ({ proof_sm3: c.dataset.proof, file_name: c.dataset.file, sm3: c.dataset.sm3 }));
  const questions = $('commission-questions').value.split('\n').map((q) => q.trim()).filter(Boolean);
  const day = $('commission-deadline').value;
  if (!day) throw Object.assign(new Error('choose the deadline'), { code: 'deadline_missing', field: 'commission-deadline' });
  // The end of that day, Beijing time.
  const deadline = Date.parse(`${day}T23:59:59+08:00`);
  const [y, m, d] = day.split('-');
  const act = {
    kind: 'commission',
    case_reference: $('commission-reference').value.trim(),
    institution: $('commission-institution').value,
    items,
    questions,
    deadline: `${y}-${m}-${d}T23:59:59.000+08:00`,
  };
  if (!Number.isFinite(deadline)) throw Object.assign(new Error('not a date'), { code: 'deadline_invalid' });
  const step = signedStep(null, keys.owner, 'court', act, keys.secret);
  const r = await api.call('POST', '/v1/appraisals', { step });
  $('commission-status').dataset.commission = r.commission_sm3;
  return [`已委托，委托书 SM3：${r.commission_sm3}`, `Commissioned; the commission's SM3: ${r.commission_sm3}`];
}

/** The opinion PDF, asked for again while its last steps wait to be anchored (409). */
async function opinionPdf(sm3) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.call('GET', `/v1/appraisals/${sm3}/opinion.pdf`, undefined, 'blob');
    } catch (e) {
      if (e.code !== 'not_yet_anchored' || attempt >= 60) throw e;
      sayDone($('commission-status'), '鉴定意见书已送达，正在等待其最后步骤上链…', 'Delivered; waiting for its last steps to be anchored on the ledger…');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function fetchOpinion(sm3) {
  const pdf = await opinionPdf(sm3);
  const a = el('a', { href: URL.createObjectURL(pdf), download: `${sm3.slice(0, 16)}-opinion.pdf`, id: 'opinion-pdf' },
    bi('下载鉴定意见书 PDF', 'Download the opinion PDF'));
  $('opinion-download').replaceChildren(a);
  const policy = await picker.resolve();
  const report = JSON.parse(wasm.verify(new Uint8Array(await pdf.arrayBuffer()), undefined, policy.bytes));
  renderReport($('opinion-result'), report, { policySource: policy.source });
  $('opinion-result').focus();
  return report.verdict === 'valid'
    ? ['已取得鉴定意见书，并在本机核验通过。', 'Opinion fetched and verified in this browser.']
    : ['已取得鉴定意见书，但核验未通过。', 'Opinion fetched, but it does NOT verify.'];
}

async function listCommissions() {
  const r = await api.call('GET', '/v1/appraisals');
  const mine = r.appraisals.filter((a) => a.court === keys.owner);
  $('commissions').replaceChildren(...mine.map((a) => {
    const li = el('li', { 'data-commission': a.commission_sm3, 'data-last': a.last_act },
      `${a.case_reference} → ${a.institution} · `, bi(`${a.steps} 步`, `${a.steps} step(s)`), `, ${a.last_act} (${a.last_by}) `);
    if (a.last_act === 'delivery') {
      const b = el('button', { type: 'button', 'data-fetch': a.commission_sm3 }, bi('取得并核验鉴定意见书', 'Fetch and verify the opinion'));
      b.addEventListener('click', () => run(() => fetchOpinion(a.commission_sm3)));
      li.append(b);
    }
    return li;
  }));
  if (!mine.length) $('commissions').append(el('li', {}, bi('本院暂无委托。', 'No commission by this court yet.')));
  return ['已刷新。', 'Refreshed.'];
}

async function run(fn) {
  try {
    const [zh, en] = await fn();
    sayDone($('commission-status'), zh, en);
  } catch (e) {
    sayError($('commission-status'), '未完成：', e);
  }
}

/** Starts the court's appraisal section; `token()` reads the court token field. */
export function startCommissions(options) {
  ({ picker } = options);
  api = new Api(options.token);
  keys = new KeyPanel($('court-key-panel'), { ownerInput: $('court-id') });
  const inMonth = new Date(Date.now() + 30 * 86400e3 + 8 * 3600e3).toISOString().slice(0, 10);
  $('commission-deadline').value = inMonth;
  $('commission-load').addEventListener('click', () => run(loadEvidence));
  $('commission-submit').addEventListener('click', () => run(commission));
  $('commissions-refresh').addEventListener('click', () => run(listCommissions));
}

// The appraisal workspace of /appraiser (司法鉴定全程在线), for the institution, its appraisers
// and the reviewer: each makes and keeps their own SM2 key in this browser (keystore.js); the
// institution issues credentials, accepts or refuses a commission, assigns appraisers and a
// reviewer; each appraiser declares no conflict, receives the material by the SM3 this browser
// computes while downloading it, records the work (with the in-browser verifier's report by
// hash), drafts and co-signs the opinion with the others; the reviewer reviews; the
// institution delivers. Every step is built and signed here in WebAssembly and checked by the
// notary against the procedure's rules before it is stored.
import { wasm, bi, el, beijing } from './portal.js';
import { KeyPanel } from './keystore.js';
import { Api, signedStep, sayError, sayDone, renderSteps } from './procedure.js';

const $ = (id) => document.getElementById(id);

let api;
let keys;
let pool;
let picker;
let procedure = null; // the notary's GET /v1/appraisals/{sm3}
let commission = null; // its SM3
let parties = [];
const downloaded = new Map(); // proof/file → Blob, this tab only
let attachments = [];

const role = () => $('me-role').value;
const me = () => $('me-id').value.trim();
const status = () => $('procedure-status');

function credentialKey() { return `tiezheng-credential:${me()}`; }

function myCredential() {
  const text = localStorage.getItem(credentialKey());
  return text ? JSON.parse(text) : null;
}

function showIdentity() {
  const inst = role() === 'institution';
  $('issue').hidden = !inst;
  $('credential-mine').hidden = inst;
  for (const f of document.querySelectorAll('#actions fieldset[data-for]')) {
    f.hidden = f.dataset.for !== 'opinion' && f.dataset.for !== role();
  }
  const c = myCredential();
  $('credential-show').replaceChildren(c
    ? bi(`凭证：${c.credential.name}，执业证号 ${c.credential.licence_number}，${c.credential.institution} 签发`,
      `Credential: ${c.credential.name}, licence ${c.credential.licence_number}, issued by ${c.credential.institution}`)
    : bi('尚未载入凭证。', 'No credential loaded yet.'));
  $('credential-show').dataset.credential = c ? c.credential.appraiser_id : '';
}

function needKey() {
  if (!keys.secret) throw Object.assign(new Error('unlock your signing key first (解锁签名密钥)'), { code: 'key_locked' });
  return keys.secret;
}

function commissionAct() { return procedure.steps[0].step.act; }

async function load(sm3) {
  commission = sm3;
  procedure = await api.call('GET', `/v1/appraisals/${sm3}`);
  const act = commissionAct();
  $('procedure').hidden = false;
  $('procedure-heading').replaceChildren(bi('鉴定程序 ', 'Procedure '), el('span', {}, act.case_reference), ' ', el('code', {}, `${sm3.slice(0, 16)}…`));
  $('procedure').dataset.commission = sm3;
  const dl = $('procedure-facts');
  const row = (zh, en, v) => [el('dt', {}, bi(zh, en)), el('dd', {}, v)];
  dl.replaceChildren(
    ...row('委托法院', 'Court', procedure.steps[0].step.by),
    ...row('鉴定机构', 'Institution', act.institution),
    ...row('鉴定事项', 'Questions', el('ol', {}, act.questions.map((q) => el('li', {}, q)))),
    ...row('检材', 'Material', el('ul', {}, act.items.map((i) => el('li', {}, `${i.file_name} `, el('code', {}, i.sm3))))),
    ...row('期限', 'Deadline', beijing(act.deadline)));
  renderSteps($('steps'), procedure);
  const fields = $('findings-fields');
  if (fields.dataset.commission !== sm3) {
    fields.dataset.commission = sm3;
    fields.replaceChildren(...act.questions.map((q, i) => el('div', { className: 'field' },
      el('label', { for: `finding-${i}` }, bi(`意见 ${i + 1}：`, `Finding ${i + 1}: `), q),
      el('textarea', { id: `finding-${i}`, rows: 3, cols: 60 }))));
  }
  await loadDraft();
}

async function loadDraft() {
  const area = $('draft-area');
  let d;
  try {
    d = await api.call('GET', `/v1/appraisals/${commission}/draft`);
  } catch (e) {
    if (e.status !== 404) throw e;
    area.replaceChildren();
    area.dataset.draft = 'none';
    return;
  }
  const sign = el('button', { type: 'button', id: 'draft-sign' }, bi('共同签署此意见', 'Co-sign this opinion'));
  sign.addEventListener('click', () => act(async () => {
    const step = JSON.parse(wasm.sign_step(needKey(), JSON.stringify(d.draft)));
    return put(step);
  }));
  area.replaceChildren(
    el('h4', {}, bi('待共同签署的意见', 'Opinion being co-signed')),
    el('ol', {}, d.draft.step.act.findings.map((f) => el('li', {}, f))),
    el('p', { 'data-missing': d.missing.join(',') }, bi('尚待签署：', 'Still to sign: '), d.missing.join(', ')),
    sign);
  area.dataset.draft = 'open';
}

async function put(step) {
  const r = await api.call('PUT', `/v1/appraisals/${commission}/draft`, { step });
  if (r.httpStatus === 201) return ['意见已由全部签署人签署并记入程序。', 'The opinion is signed by everyone and added to the procedure.'];
  return [`已签署；尚待：${r.missing.join(', ')}`, `Signed; still to sign: ${r.missing.join(', ')}`];
}

/** Runs one action: its outcome (or the notary's typed refusal) is announced, then reloaded. */
async function act(fn) {
  try {
    const [zh, en] = await fn();
    sayDone(status(), zh, en);
  } catch (e) {
    sayError(status(), '未完成：', e);
  }
  try {
    if (commission) await load(commission);
    await list();
  } catch (e) {
    sayError(status(), '无法刷新：', e);
  }
}

/** Signs and sends the next step in the role chosen. */
async function step(actJson, { asInstitution = role() === 'institution' } = {}) {
  const secret = needKey();
  // Chain to the procedure as it stands now, not as it was when the page loaded it.
  procedure = await api.call('GET', `/v1/appraisals/${commission}`);
  const by = asInstitution ? commissionAct().institution : me();
  if (asInstitution && by !== me()) {
    throw Object.assign(new Error(`you act for ${me()}, but the commission names the institution ${by}`), { code: 'wrong_institution' });
  }
  const signed = signedStep(procedure, by, asInstitution ? 'institution' : 'appraiser', actJson, secret);
  const c = myCredential();
  const body = { step: signed, credentials: !asInstitution && c ? [c] : [] };
  const r = await api.call('POST', `/v1/appraisals/${commission}/steps`, body);
  return [`已签署并记入：第 ${r.seq} 步（${r.act}）`, `Signed and recorded: step ${r.seq} (${r.act})`];
}

/** The material, downloaded (each a custody event) and hashed in this browser. */
async function receive() {
  const items = commissionAct().items;
  const rows = [];
  const out = [];
  let done = 0;
  for (const it of items) {
    const key = `${it.proof_sm3}/${it.file_name}`;
    if (!downloaded.has(key)) {
      const view = await api.call('GET', `/v1/proofs/${it.proof_sm3}`);
      const idx = view.proof.manifest.items.findIndex((f) => f.file_name === it.file_name);
      if (idx < 0) throw Object.assign(new Error(`proof ${it.proof_sm3} lists no ${it.file_name}`), { code: 'material_missing' });
      downloaded.set(key, await api.call('GET', `/v1/proofs/${it.proof_sm3}/media/${idx}`, undefined, 'blob'));
    }
    const d = await pool.hash(downloaded.get(key), (f) => { $('receive-progress').value = (done + f) / items.length; });
    done += 1;
    const match = d.sm3 === it.sm3;
    rows.push(el('tr', { 'data-file': it.file_name, 'data-match': String(match) },
      el('td', {}, it.file_name), el('td', {}, el('code', {}, it.sm3)), el('td', {}, el('code', { 'data-computed': d.sm3 }, d.sm3)),
      el('td', {}, match ? bi('一致', 'equal') : el('strong', { className: 'error' }, bi('不一致', 'DIFFERENT')))));
    out.push({ proof_sm3: it.proof_sm3, file_name: it.file_name, sm3: d.sm3 });
  }
  $('material').tBodies[0].replaceChildren(...rows);
  return out;
}

async function verifyMaterial() {
  const items = commissionAct().items;
  const policy = await picker.resolve();
  const reports = [];
  attachments = [];
  let failing = null;
  for (const it of items) {
    const key = `${it.proof_sm3}/${it.file_name}`;
    if (!downloaded.has(key)) await receive();
    const bundle = new Uint8Array(await api.call('GET', `/v1/proofs/${it.proof_sm3}/bundle`, undefined, 'buffer'));
    const segments = JSON.parse(wasm.segment_ranges(bundle));
    const digests = await pool.hash(downloaded.get(key), () => {}, segments);
    const text = wasm.verify(bundle, JSON.stringify(digests), policy.bytes);
    const report = JSON.parse(text);
    const h = new wasm.Hasher('SM3');
    const bytes = new TextEncoder().encode(text);
    h.update(bytes);
    const sm3 = h.finalize();
    attachments.push(sm3);
    if (report.verdict !== 'valid' && !failing) failing = (report.checks.find((c) => c.status === 'fail') || {}).rule || report.verdict;
    reports.push(el('li', { 'data-report': sm3, 'data-verdict': report.verdict },
      el('a', { href: URL.createObjectURL(new Blob([bytes], { type: 'application/json' })), download: `${it.file_name}.report.json` },
        `${it.file_name}: ${report.verdict}`), ' SM3 ', el('code', {}, sm3)));
  }
  $('record-tool').value = 'tiezheng verify (WebAssembly, in the browser)';
  $('record-version').value = wasm.version();
  $('record-action').value = `verified ${items.length} file(s) and their evidence bundles rule by rule against the court's policy (${policy.source})`;
  $('record-result').value = failing ? `NOT valid: ${failing}` : 'valid: every rule passed';
  $('record-reports').replaceChildren(el('ul', {}, reports));
  return ['已在本机核验，报告的 SM3 将作为附件记入。', "Verified here; the reports' SM3s will be attached to the record entry."];
}

async function list() {
  const r = await api.call('GET', '/v1/appraisals');
  const ul = $('procedure-list');
  ul.replaceChildren(...r.appraisals.map((a) => el('li', { 'data-commission': a.commission_sm3, 'data-last': a.last_act },
    el('a', { href: `#appraisal=${a.commission_sm3}` }, `${a.case_reference} · ${a.institution}`), ' · ',
    bi(`${a.steps} 步`, `${a.steps} step(s)`), ', ', bi('最近', 'last'), `: ${a.last_act} (${a.last_by})`)));
  if (!r.appraisals.length) ul.append(el('li', {}, bi('暂无程序。', 'No procedure yet.')));
}

function route() {
  const sm3 = new URLSearchParams(location.hash.slice(1)).get('appraisal');
  if (!sm3) return;
  if (!/^[0-9a-f]{64}$/.test(sm3)) { sayError(status(), '链接无效：', new Error('an appraisal is named by 64 hexadecimal digits')); return; }
  load(sm3).catch((e) => sayError(status(), '无法打开：', e));
}

function findings() {
  return commissionAct().questions.map((_, i) => $(`finding-${i}`).value.trim());
}

/** Starts the workspace once the user signed in with `token`. */
export function startWorkspace(options) {
  ({ pool, picker } = options);
  api = new Api(() => options.token());
  $('workspace').hidden = false;
  keys = new KeyPanel($('key-panel'), { ownerInput: $('me-id'), onChange: () => { $('workspace').dataset.key = keys.secret ? 'unlocked' : 'locked'; } });
  $('me-role').addEventListener('change', showIdentity);
  $('me-id').addEventListener('input', showIdentity);
  $('procedure-refresh').addEventListener('click', () => act(async () => ['已刷新。', 'Refreshed.']));
  showIdentity();
  $('credential-import').addEventListener('change', async () => {
    const f = $('credential-import').files[0];
    if (!f) return;
    try {
      const c = JSON.parse(await f.text());
      if (!c.credential || c.credential.type !== 'tiezheng.appraiser-credential.v1') throw new Error('not a tiezheng.appraiser-credential.v1 document');
      const k = keys.record;
      if (k && k.public_key !== c.credential.public_key) throw new Error('this credential binds another key than yours');
      if (!me()) $('me-id').value = c.credential.appraiser_id;
      if (c.credential.appraiser_id !== me()) throw new Error(`this credential is ${c.credential.appraiser_id}'s, not ${me()}'s`);
      localStorage.setItem(credentialKey(), JSON.stringify(c));
      showIdentity();
    } catch (e) {
      $('credential-show').replaceChildren(el('span', { role: 'alert', className: 'error' }, bi('无法载入凭证：', e.message)));
    }
  });
  $('issue-button').addEventListener('click', () => {
    try {
      const [at, offset] = [Date.now(), -new Date().getTimezoneOffset()];
      const text = wasm.sign_credential(needKey(), me(), $('issue-id').value.trim(), $('issue-name').value.trim(),
        $('issue-licence').value.trim(), $('issue-key').value.trim(), at, offset);
      const c = JSON.parse(text);
      const blob = new Blob([JSON.stringify(c, null, 2)], { type: 'application/json' });
      $('issue-output').replaceChildren(el('p', { role: 'status' }, bi('已签发：', 'Issued: '),
        el('a', { href: URL.createObjectURL(blob), download: `${c.credential.appraiser_id}.credential.json`, id: 'issue-download', 'data-appraiser': c.credential.appraiser_id },
          bi('下载凭证，交给鉴定人', "Download the credential and hand it to the appraiser"))));
    } catch (e) {
      $('issue-output').replaceChildren(el('p', { role: 'alert', className: 'error' }, bi('无法签发：', e.message)));
    }
  });
  $('procedures-refresh').addEventListener('click', () => list().catch((e) => sayError(status(), '无法列出：', e)));
  $('act-accept').addEventListener('click', () => act(() => step({ kind: 'acceptance', accepted: true, reason: null })));
  $('act-refuse').addEventListener('click', () => act(() => step({ kind: 'acceptance', accepted: false, reason: $('refuse-reason').value.trim() || null })));
  $('act-assign').addEventListener('click', () => act(() => step({
    kind: 'assignment',
    appraisers: $('assign-appraisers').value.split(/[,，\s]+/).filter(Boolean),
    reviewer: $('assign-reviewer').value.trim(),
  })));
  $('act-declare').addEventListener('click', () => act(() => step({ kind: 'declaration', statement: $('declare-statement').value.trim() })));
  $('act-receive').addEventListener('click', () => act(async () => step({ kind: 'material_receipt', items: await receive() })));
  $('record-verify').addEventListener('click', () => act(verifyMaterial));
  $('act-record').addEventListener('click', () => act(() => step({
    kind: 'record_entry',
    tool: $('record-tool').value.trim(),
    tool_version: $('record-version').value.trim(),
    action: $('record-action').value.trim(),
    result: $('record-result').value.trim(),
    attachments,
  })));
  $('act-draft').addEventListener('click', () => act(async () => {
    procedure = await api.call('GET', `/v1/appraisals/${commission}`);
    const signed = signedStep(procedure, commissionAct().institution, 'institution', { kind: 'opinion', findings: findings() }, needKey());
    return put(signed);
  }));
  $('act-approve').addEventListener('click', () => act(() => step({ kind: 'review', approved: true, remarks: $('review-remarks').value.trim() })));
  $('act-return').addEventListener('click', () => act(() => step({ kind: 'review', approved: false, remarks: $('review-remarks').value.trim() })));
  $('act-revoke').addEventListener('click', () => act(async () => {
    const id = $('revoke-appraiser').value.trim();
    const c = (procedure.credentials || []).find((x) => x.credential.appraiser_id === id);
    if (!c) throw Object.assign(new Error(`no credential of ${id} is held in this procedure`), { code: 'unknown_appraiser' });
    const [at, offset] = [Date.now(), -new Date().getTimezoneOffset()];
    const revocation = JSON.parse(wasm.sign_revocation(needKey(), me(), id, c.credential.key_id, $('revoke-reason').value.trim(), at, offset));
    await api.call('POST', `/v1/appraisals/${commission}/revocations`, { revocation });
    return [`已撤销 ${id} 的密钥，自此不再接受其签名。`, `${id}'s key is revoked: no step signed with it is accepted from now on.`];
  }));
  $('act-deliver').addEventListener('click', () => act(() => step({ kind: 'delivery', court: procedure.steps[0].step.by })));
  window.addEventListener('hashchange', route);
  list().catch((e) => sayError(status(), '无法列出：', e));
  route();
  document.body.dataset.workspace = 'ready';
}

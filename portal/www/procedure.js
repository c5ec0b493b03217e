// What the court's and the appraisers' pages share about a judicial appraisal: the notary's
// appraisal endpoints, the procedure shown step by step, and the next step built and signed
// in this browser by the WebAssembly protocol code (wasm.appraisal_step, wasm.sign_step).
import { wasm, bi, el, beijing } from './portal.js';

/** The acts of the procedure, in Chinese and English. */
export const ACTS = {
  commission: ['委托', 'Commission'],
  acceptance: ['受理', 'Acceptance'],
  assignment: ['指派鉴定人', 'Assignment'],
  declaration: ['回避声明', 'No-conflict declaration'],
  material_receipt: ['接收检材', 'Material received'],
  record_entry: ['鉴定过程记录', 'Process record entry'],
  opinion: ['鉴定意见', 'Opinion'],
  review: ['复核', 'Review'],
  delivery: ['送达', 'Delivery'],
};

/** The notary's JSON API with a bearer token; errors carry `status`, `code` and `field`. */
export class Api {
  constructor(token) { this.token = token; }

  async call(method, path, body, as = 'json') {
    const init = { method, headers: { Authorization: `Bearer ${this.token()}` }, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    if (!r.ok) {
      let e = {};
      try { e = await r.json(); } catch { /* not JSON */ }
      throw Object.assign(new Error(e.message || `HTTP ${r.status}`), { status: r.status, code: e.code || `http_${r.status}`, field: e.field });
    }
    if (as === 'blob') return r.blob();
    if (as === 'buffer') return r.arrayBuffer();
    // The status travels beside the body, never inside it (bodies are signed documents).
    return Object.defineProperty(await r.json(), 'httpStatus', { value: r.status, enumerable: false });
  }
}

/** Now, in Unix milliseconds and this browser's UTC offset in minutes. */
export function now() {
  return [Date.now(), -new Date().getTimezoneOffset()];
}

/** The next step after `procedure` (null for a commission), signed with `secret`. */
export function signedStep(procedure, by, role, act, secret) {
  const [at, offset] = now();
  const unsigned = wasm.appraisal_step(JSON.stringify(procedure), by, role, JSON.stringify(act), at, offset);
  return JSON.parse(wasm.sign_step(secret, unsigned));
}

/** Shows an error from the notary (or the page) in `status`, with its code and field. */
export function sayError(status, zh, e) {
  status.replaceChildren(el('span', { role: 'alert' }, bi(zh, `${e.message}`),
    e.code ? el('code', { 'data-error-code': e.code }, ` ${e.code}`) : null,
    e.field ? el('span', { className: 'help' }, ` (${e.field})`) : null));
  status.dataset.state = 'error';
  status.dataset.code = e.code || 'error';
}

/** Shows that something worked. */
export function sayDone(status, zh, en) {
  status.replaceChildren(bi(zh, en));
  status.dataset.state = 'done';
  delete status.dataset.code;
}

function detail(act) {
  switch (act.kind) {
    case 'commission': return `${act.case_reference} → ${act.institution}; ${act.items.length} file(s); ${act.questions.length} question(s); deadline ${beijing(act.deadline)}`;
    case 'acceptance': return act.accepted ? '受理 accepted' : `不予受理 refused: ${act.reason || ''}`;
    case 'assignment': return `鉴定人 appraisers: ${act.appraisers.join(', ')}; 复核人 reviewer: ${act.reviewer}`;
    case 'declaration': return act.statement;
    case 'material_receipt': return act.items.map((i) => `${i.file_name} SM3 ${i.sm3}`).join('; ');
    case 'record_entry': return `${act.tool} ${act.tool_version}: ${act.action} → ${act.result}${act.attachments.length ? ` (${act.attachments.length} attachment(s))` : ''}`;
    case 'opinion': return act.findings.join(' / ');
    case 'review': return `${act.approved ? '同意 approved' : '退回 returned'}: ${act.remarks}`;
    case 'delivery': return `→ ${act.court}`;
    default: return '';
  }
}

/** Renders the procedure's steps into the list `ol`. */
export function renderSteps(ol, procedure) {
  ol.replaceChildren(...procedure.steps.map((s) => {
    const st = s.step;
    const name = ACTS[st.act.kind] || [st.act.kind, st.act.kind];
    return el('li', { 'data-act': st.act.kind, 'data-by': st.by, 'data-seq': String(st.seq) },
      el('strong', {}, bi(...name)), ' · ', el('code', {}, st.by), ' · ',
      el('time', { dateTime: st.at }, beijing(st.at)), ' · ',
      el('span', { className: 'help' }, `${s.signatures.length} 个签名 signature(s)`),
      el('div', {}, detail(st.act)));
  }));
  ol.dataset.steps = String(procedure.steps.length);
  ol.dataset.last = procedure.steps.length ? procedure.steps[procedure.steps.length - 1].step.act.kind : '';
}

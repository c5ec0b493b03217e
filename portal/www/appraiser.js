// The appraiser workspace: sign in with a token, open a granted case, view an item's facts,
// findings and custody log (its hash chain checked here, in WebAssembly), view or download
// the original and its proof bundle, and verify it in this browser. Every view and download
// is a custody event the notary logs; the log is re-read after each. The judicial appraisal
// procedures (keys, credentials, every signed step) are workspace.js's.
import { wasm, wasmReady, HashPool, renderReport, formatBytes, bi, el, PolicyPicker, beijing } from './portal.js';
import { startWorkspace } from './workspace.js';

const $ = (id) => document.getElementById(id);
const pool = new HashPool();
let token = sessionStorage.getItem('tiezheng-token') || '';
let current = null; // { proof_sm3, item, file_name, mime }
let workspaceStarted = false;

function say(zh, en, state) {
  $('status').replaceChildren(bi(zh, en));
  if (state) $('status').dataset.state = state; else delete $('status').dataset.state;
}

async function api(path, as = 'json') {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (!r.ok) {
    let body = {};
    try { body = await r.json(); } catch { /* not JSON */ }
    const e = new Error(body.message || `HTTP ${r.status}`);
    e.status = r.status;
    e.code = body.code;
    throw e;
  }
  return as === 'json' ? r.json() : as === 'blob' ? r.blob() : r.arrayBuffer();
}

async function signIn() {
  try {
    const me = await api('/v1/cases');
    sessionStorage.setItem('tiezheng-token', token);
    $('signout').hidden = false;
    say(`已登录：${me.subject}（${me.role}）`, `Signed in: ${me.subject} (${me.role})`, 'signed-in');
    const list = $('case-list');
    list.replaceChildren(...me.cases.map((c) => el('li', {}, el('a', { href: `#case=${encodeURIComponent(c)}`, 'data-case': c }, c))));
    if (!me.cases.length) list.append(el('li', {}, bi('没有授权给您的案件。', 'No case is granted to you.')));
    $('cases').hidden = false;
    if (!workspaceStarted) {
      workspaceStarted = true;
      startWorkspace({ token: () => token, pool, picker });
    }
    route();
  } catch (e) {
    say('登录失败：', `Sign-in failed: ${e.message}`, 'error');
  }
}

// The case on screen, and the thumbnails already fetched (by proof/item): opening an item or
// coming back to the case asks the notary for nothing again.
let openedCase = null;
const thumbnails = new Map();

async function openCase(reference) {
  openedCase = reference;
  $('item').hidden = true;
  $('case').hidden = false;
  $('case-heading').replaceChildren(bi('案件 ', 'Case '), el('span', {}, reference));
  const items = $('items');
  items.replaceChildren();
  let data;
  try {
    data = await api(`/v1/cases/items?reference=${encodeURIComponent(reference)}`);
  } catch (e) {
    openedCase = null;
    $('case').dataset.state = e.status === 403 ? 'refused' : 'error';
    items.append(el('li', { className: 'error', role: 'alert', 'data-state': e.status === 403 ? 'refused' : 'error' },
      e.status === 403 ? bi('拒绝访问：此案件未授权给您。', 'Refused: this case is not granted to you.') : bi('出错：', e.message)));
    return;
  }
  $('case').dataset.state = 'open';
  for (const p of data.proofs) {
    for (const it of p.items) {
      const open = el('a', { href: `#case=${encodeURIComponent(reference)}&proof=${p.proof_sm3}&item=${it.item}`, 'data-proof': p.proof_sm3, 'data-item': it.item },
        bi('查看', 'Open'), el('span', { className: 'visually-hidden' }, ` ${it.file_name}`));
      const thumb = it.kind === 'photo'
        ? el('img', { alt: `${it.file_name}（缩略图 thumbnail）`, 'data-thumbnail': `${p.proof_sm3}/${it.item}` })
        : el('div', { className: 'thumb-placeholder' }, it.kind === 'video' ? bi('视频', 'video') : it.kind === 'audio' ? bi('录音', 'audio') : String(it.kind));
      items.append(el('li', { className: 'card', 'data-proof': p.proof_sm3 },
        thumb,
        el('h3', {}, it.file_name),
        el('p', {}, `${it.mime} · ${formatBytes(it.bytes)} · #${p.device_seq}`),
        el('p', {}, el('time', { dateTime: it.device_time || '' }, beijing(it.device_time))),
        it.findings && it.findings.length ? el('p', { className: 'help' }, it.findings.join(', ')) : null,
        open));
    }
    if (!p.items.length && p.session_summary) {
      items.append(el('li', { className: 'card' }, bi('执法会话汇总', 'Enforcement session summary'), ` #${p.device_seq}`));
    }
  }
  // Thumbnails one at a time (each view is a custody event the notary appends in order).
  for (const img of items.querySelectorAll('img[data-thumbnail]')) {
    try {
      const key = img.dataset.thumbnail;
      if (!thumbnails.has(key)) thumbnails.set(key, URL.createObjectURL(await api(`/v1/proofs/${key.replace('/', '/thumbnail/')}`, 'blob')));
      img.src = thumbnails.get(key);
    } catch {
      img.replaceWith(el('div', { className: 'thumb-placeholder' }, bi('无缩略图', 'no thumbnail')));
    }
  }
  $('case').dataset.thumbnails = 'loaded';
}

function fact(zh, en, value) {
  if (value === undefined || value === null || value === '') return [];
  return [el('dt', {}, bi(zh, en)), el('dd', {}, value)];
}

async function openItem(proof, item) {
  $('item').hidden = false;
  $('item-result').replaceChildren();
  $('item-result').removeAttribute('data-verdict');
  $('viewer').replaceChildren();
  const view = await api(`/v1/proofs/${proof}`); // a custody event: "viewed"
  const m = view.proof.manifest;
  const it = m.items[item] || {};
  current = { proof_sm3: proof, item, file_name: it.file_name, mime: it.mime, kind: it.kind };
  $('item-heading').replaceChildren(el('span', {}, it.file_name), ' ', el('code', {}, proof.slice(0, 16) + '…'));
  const fix = it.location && it.location.os_fix;
  $('facts').replaceChildren(
    ...fact('案件', 'Case', `${m.case.reference}${m.case.cause ? ' · ' + m.case.cause : ''}`),
    ...fact('类型', 'Kind', `${it.kind} · ${it.mime} · ${it.bytes} B`),
    ...(it.hashes || []).flatMap((h) => fact(h.algorithm, h.algorithm, el('code', {}, h.value))),
    ...fact('设备时间', 'Device time', it.times && beijing(it.times.device_time)),
    ...fact('卫星时间', 'GNSS time', it.times && beijing(it.times.gnss_time)),
    ...fact('位置', 'Location', fix && `${fix.latitude}, ${fix.longitude} (±${fix.horizontal_accuracy ?? '?'} m, ${fix.provider}${fix.mock ? ', MOCK' : ''})`),
    ...fact('设备', 'Device', `${m.device.model} · ${m.device.os}`),
    ...fact('采集人', 'Collectors', (m.case.collectors || []).join(', ')),
    ...fact('见证人', 'Witness', m.case.witness && (m.case.witness.name || m.case.witness.note)),
    ...fact('当事人', 'Holder', m.case.holder && (m.case.holder.name || m.case.holder.note)),
    ...fact('接收时间', 'Received by the notary', beijing(view.receipt.receipt.received_at)),
    ...fact('设备序号', 'Device sequence', String(m.device_seq)));
  $('findings').replaceChildren(...(it.findings || []).map((f) => el('li', { 'data-finding': f.code }, el('code', {}, f.code), ' ', f.detail)));
  if (!(it.findings || []).length) $('findings').append(el('li', {}, bi('无', 'none')));
  showCustody(view.custody, view.custody_page);
}

// The custody events shown (a page of the log, oldest first) and where older ones are.
let shownCustody = [];
let olderCustody = null;

function showCustody(events, page, older = false) {
  shownCustody = older ? events.concat(shownCustody) : events;
  olderCustody = page && page.older ? page.older : null;
  $('older-custody').hidden = !olderCustody;
  renderCustody(page);
}

function renderCustody(page) {
  const events = shownCustody;
  const check = JSON.parse(wasm.check_custody(JSON.stringify(events)));
  const table = $('custody');
  table.dataset.custody = check.intact ? 'intact' : 'broken';
  $('custody-status').replaceChildren(check.intact
    ? bi(`保管链完整：所示 ${events.length} 条事件（共 ${page ? page.events : events.length} 条）的哈希均已在本机重新计算。`,
      `Custody log intact: the hashes of the ${events.length} events shown (of ${page ? page.events : events.length}) recomputed in this browser.`)
    : bi('保管链被改动！', `Custody log NOT intact: ${check.error || check.events.filter((c) => c.problem).map((c) => c.problem).join('; ')}`));
  table.tBodies[0].replaceChildren(...events.map((e, i) => {
    const c = check.events[i] || {};
    return el('tr', { 'data-event': e.event, 'data-actor': e.actor, 'data-link': c.link },
      el('td', {}, String(e.seq)), el('td', {}, e.event), el('td', {}, el('code', {}, e.actor)),
      el('td', {}, el('time', { dateTime: new Date(e.at).toISOString() }, beijing(e.at))), el('td', {}, e.detail),
      el('td', {}, c.problem ? el('span', { className: 'error' }, c.problem) : c.link));
  }));
}

async function refreshCustody() {
  const view = await api(`/v1/proofs/${current.proof_sm3}`);
  showCustody(view.custody, view.custody_page);
}

$('refresh-custody').addEventListener('click', () => refreshCustody().catch((e) => say('出错：', e.message, 'error')));
$('older-custody').addEventListener('click', async () => {
  if (!olderCustody || !/^\/v1\/proofs\/[0-9a-f]{64}\?custody_before=[0-9]+$/.test(olderCustody)) return;
  const view = await api(olderCustody);
  showCustody(view.custody, view.custody_page, true);
});

function saveBlob(blob, name) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

$('view-original').addEventListener('click', async () => {
  const blob = await api(`/v1/proofs/${current.proof_sm3}/media/${current.item}`, 'blob');
  const url = URL.createObjectURL(new Blob([blob], { type: current.mime }));
  const tag = current.kind === 'photo' ? 'img' : current.kind === 'audio' ? 'audio' : 'video';
  $('viewer').replaceChildren(el(tag, { src: url, alt: current.file_name, controls: tag !== 'img' }));
});
$('download-original').addEventListener('click', async () => {
  saveBlob(await api(`/v1/proofs/${current.proof_sm3}/media/${current.item}`, 'blob'), current.file_name);
});
$('download-bundle').addEventListener('click', async () => {
  // HOOK (issue 12): offer the certificate PDF and JSON here once the notary issues them.
  try {
    saveBlob(await api(`/v1/proofs/${current.proof_sm3}/bundle`, 'blob'), `${current.proof_sm3}.bundle.json`);
  } catch (e) {
    say('证据包尚不可用：', e.message, 'error');
  }
});
$('verify-item').addEventListener('click', async () => {
  const out = $('item-result');
  out.removeAttribute('data-verdict');
  out.replaceChildren(bi('正在下载并在本机核验…', 'Downloading and verifying in this browser…'));
  try {
    // One request at a time: each read appends to the notary's custody log.
    const bundle = await api(`/v1/proofs/${current.proof_sm3}/bundle`, 'buffer');
    const media = await api(`/v1/proofs/${current.proof_sm3}/media/${current.item}`, 'blob');
    const policy = await picker.resolve();
    $('progress-area').hidden = false;
    const segments = JSON.parse(wasm.segment_ranges(new Uint8Array(bundle)));
    const digests = await pool.hash(media, (f) => { $('progress').value = f; }, segments);
    const report = JSON.parse(wasm.verify(new Uint8Array(bundle), JSON.stringify(digests), policy.bytes));
    renderReport(out, report, { policySource: policy.source });
  } catch (e) {
    out.replaceChildren(el('p', { className: 'error', role: 'alert' }, bi('无法核验：', e.message)));
  }
});

function route() {
  if (!token) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const reference = params.get('case');
  if (!reference) { $('case').hidden = true; $('item').hidden = true; return; }
  // The fragment is anyone's to write: only a proof's SM3 (64 hex) and an item number reach a
  // request path; the case reference only ever travels encoded in a query.
  const proof = params.get('proof');
  const item = params.get('item') || '0';
  if ((proof !== null && !/^[0-9a-f]{64}$/.test(proof)) || !/^[0-9]{1,4}$/.test(item)) {
    say('链接无效：', 'the link names no valid proof (64 hexadecimal digits) and item number', 'error');
    return;
  }
  const opened = reference === openedCase && $('case').dataset.state === 'open'
    ? Promise.resolve() : openCase(reference);
  opened.then(() => {
    if (proof) return openItem(proof, Number(item));
    $('item').hidden = true;
    return undefined;
  }).catch((e) => say('出错：', e.message, 'error'));
}

$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  signIn();
});
$('signout').addEventListener('click', () => {
  sessionStorage.removeItem('tiezheng-token');
  token = '';
  location.hash = '';
  location.reload();
});
window.addEventListener('hashchange', route);

let picker;
Promise.all([wasmReady, pool.ready]).then(() => {
  picker = new PolicyPicker($('policy-area'));
  picker.show();
  document.body.dataset.ready = 'true';
  $('signin-button').disabled = false;
  if (token) signIn();
});

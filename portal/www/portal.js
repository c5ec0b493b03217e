// Shared by the portal's pages: the WebAssembly verifier (the protocol crate), the pool of
// hashing workers, and the rendering of a verification report in Chinese and English.
import init, * as wasm from './pkg/tiezheng_wasm.js';

export { wasm };

/** Loads the WebAssembly module once. */
export const wasmReady = init();

/** An element with attributes and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'for' || k === 'lang') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** Chinese and English side by side. */
export function bi(zh, en) {
  return el('span', { className: 'bi' }, el('span', { lang: 'zh-CN' }, zh), ' ', el('span', { lang: 'en', className: 'en' }, en));
}

/**
 * A time as a Chinese court reads it: Beijing time with the offset stated (the exact signed
 * value stays in the document). Takes Unix milliseconds or an RFC 3339 string.
 */
export function beijing(t) {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (t === undefined || t === null || t === '' || !Number.isFinite(ms)) return t;
  return `${new Date(ms + 8 * 3600e3).toISOString().replace('T', ' ').replace('Z', '')} 北京时间 (UTC+8)`;
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/**
 * Two Web Workers, SM3 and SHA-256, created when the page loads (so hashing still works once
 * the network is cut). `hash(blob)` reads the file in slices in both at once and resolves to
 * `{bytes, sm3, sha256}`; nothing leaves the browser.
 */
export class HashPool {
  constructor() {
    this.next = 1;
    this.jobs = new Map();
    const start = () => {
      const w = new Worker(new URL('./hash-worker.js', import.meta.url), { type: 'module' });
      const ready = new Promise((resolve, reject) => {
        w.addEventListener('message', ({ data }) => {
          if ('ready' in data) (data.ready ? resolve() : reject(new Error(data.error)));
        });
        w.addEventListener('error', (e) => reject(new Error(e.message || 'the hashing worker failed to start')));
      });
      w.addEventListener('message', ({ data }) => {
        const job = this.jobs.get(data.id);
        if (!job) return;
        if ('progress' in data) job.progress(data.progress);
        else if ('done' in data) { this.jobs.delete(data.id); job.resolve(data); }
        else if ('error' in data) { this.jobs.delete(data.id); job.reject(new Error(data.error)); }
      });
      return { w, ready };
    };
    this.workers = { SM3: start(), 'SHA-256': start() };
    this.ready = Promise.all(Object.values(this.workers).map((x) => x.ready));
  }

  /**
   * One algorithm over `blob`; `progress(bytes)` as it goes; for SM3 also the SM3 of each
   * `[offset, length]` of `segments`. Resolves to `{done, segments, bytes, ms}`.
   */
  async hashOne(blob, algorithm, progress = () => {}, segments = []) {
    await this.ready;
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject, progress });
      this.workers[algorithm].w.postMessage({ id, blob, algorithm, segments });
    });
  }

  /**
   * SM3 and SHA-256 of `blob` in parallel, and the SM3 of each recording segment
   * (`segments`, from `wasm.segment_ranges`); `progress(fraction)`.
   */
  async hash(blob, progress = () => {}, segments = []) {
    const seen = { SM3: 0, 'SHA-256': 0 };
    const report = () => progress(blob.size ? Math.min(seen.SM3, seen['SHA-256']) / blob.size : 1);
    const run = (alg, ranges) => this.hashOne(blob, alg, (n) => { seen[alg] = n; report(); }, ranges);
    const [sm3, sha256] = await Promise.all([run('SM3', segments), run('SHA-256', [])]);
    progress(1);
    return { bytes: blob.size, sm3: sm3.done, sha256: sha256.done, segments: sm3.segments };
  }
}

/** What each layer establishes, and what its failure means, in both languages. */
export const LAYERS = {
  certificate: ['证书', 'Certificate', '存证证书的存证平台签名与其内容', "the notary's signature over the certificate and its facts"],
  digest: ['公开摘要', 'Public digest', '证书公开摘要由出具回执的存证平台签名，编号与账本记录一致', "the certificate's public digest is signed by the notary that receipted the proof, and its number follows from the ledger"],
  bundle: ['证据包', 'Bundle', '文件是可识别的铁证证据包', 'the file is a Tiezheng bundle this verifier knows'],
  governance: ['治理', 'Governance', '自创世以来的每次成员变更均经成员法定多数批准', 'every change of members since genesis was approved by a quorum'],
  policy: ['信任策略', 'Policy', '证据包使用的密钥均为您信任的密钥', 'the keys the bundle uses are keys you trust'],
  proof: ['设备签名', 'Device proof', '执法设备对清单的SM2签名有效', "the device's SM2 signature over the manifest is valid"],
  media: ['媒体文件', 'Media file', '文件的大小、SM3和SHA-256与设备签名的记录一致', "the file's size, SM3 and SHA-256 are those the device signed"],
  receipt: ['接收回执', 'Receipt', '存证平台签名的回执指向此证明', "the notary's signed receipt names this proof"],
  leaf: ['批次叶子', 'Batch leaf', '证明在批次的默克尔树中', "the proof is in the batch's Merkle tree"],
  batch: ['批次', 'Batch', '批次头由受信任的存证平台签名', 'the batch header is signed by a trusted notary'],
  anchor: ['上链', 'Anchor', '批次已记录在账本的锚定日志中', "the batch is recorded in the ledger's anchor log"],
  checkpoint: ['检查点', 'Checkpoint', '超过三分之二投票权的联盟成员以SM2共同签署', 'members with over two thirds of the voting power cosigned it with SM2'],
  chain: ['区块链', 'Chain', 'CometBFT区块头及验证人提交包含该检查点', "the CometBFT header and the validators' commit carry the checkpoint"],
  appraisal: ['司法鉴定程序', 'Appraisal procedure', '委托、受理、指派、回避、检材接收、记录、意见、复核、送达各步均由其责任人签名，依次相连，检材哈希与证明一致', 'every step from commission to delivery is signed by who acts, chained in order, and the material hashes equal the proofs\''],
  custody: ['保管记录', 'Custody', '证明的保管事件完整、有序，且已锚定在账本上', "the proof's custody events are complete, in order, and anchored on the ledger"],
};

const STATUS = {
  ok: ['通过', 'passed'],
  fail: ['未通过', 'FAILED'],
  skipped: ['未检查', 'not checked'],
};

/** Groups the report's checks by layer: a layer fails if any rule fails. */
export function layersOf(report) {
  const order = [];
  const by = new Map();
  for (const c of report.checks || []) {
    if (!by.has(c.layer)) { by.set(c.layer, []); order.push(c.layer); }
    by.get(c.layer).push(c);
  }
  return order.map((layer) => {
    const checks = by.get(layer);
    const failed = checks.find((c) => c.status === 'fail');
    const status = failed ? 'fail' : checks.some((c) => c.status === 'ok') ? 'ok' : 'skipped';
    return { layer, status, rule: failed ? failed.rule : checks[0].rule, checks };
  });
}

/** Renders `report` into `container` (which then carries `data-verdict`). */
export function renderReport(container, report, { policySource } = {}) {
  container.replaceChildren();
  const verdict = report.verdict === 'valid' ? 'valid' : 'invalid';
  const heading = {
    valid: ['核验通过', 'Verified: every layer holds'],
    invalid: ['核验未通过', 'NOT verified'],
    unusable: ['无法核验', 'Cannot be verified'],
  }[report.verdict] || ['核验未通过', 'NOT verified'];
  container.append(el('h2', { className: `verdict ${verdict}` }, bi(...heading)));
  if (report.verdict === 'valid' && !report.media_checked) {
    container.append(el('p', { className: 'note' }, bi('未提供媒体文件：仅核验了证据包，未核验文件本身。', 'No media file was given: the bundle was checked, not the file itself.')));
  }
  const list = el('ol', { className: 'layers' });
  for (const l of layersOf(report)) {
    const info = LAYERS[l.layer] || [l.layer, l.layer, '', ''];
    const row = el('li', { className: `layer ${l.status}`, 'data-layer': l.layer, 'data-status': l.status, 'data-rule': l.rule },
      el('span', { className: 'status' }, bi(...STATUS[l.status])),
      el('strong', {}, bi(info[0], info[1])),
      el('span', { className: 'what' }, bi(info[2], info[3])));
    const rules = el('ul', { className: 'rules' });
    for (const c of l.checks) {
      rules.append(el('li', { 'data-rule': c.rule, 'data-status': c.status },
        el('code', {}, c.rule), ' ',
        el('span', { className: 'requires' }, bi(c.zh || '', c.en || '')), ' ',
        el('span', { lang: 'en', className: 'found' }, c.message)));
    }
    row.append(rules);
    list.append(row);
  }
  container.append(el('h3', {}, bi('逐层结果', 'Layer by layer')), list);
  const failed = layersOf(report).find((l) => l.status === 'fail');
  if (failed) {
    const info = LAYERS[failed.layer] || [failed.layer, failed.layer, '', ''];
    container.append(el('p', { className: 'finding', role: 'alert' }, bi(
      `“${info[0]}”一层不成立：${info[2]}——这一点未得到证明。上面给出了不一致之处。`,
      `The ${info[1]} layer does not hold: it is NOT established that ${info[3]}. The disagreement is stated above.`)));
  }
  if (report.policy) renderPolicy(container, report.policy, policySource);
  if (report.facts) renderFacts(container, report.facts);
  container.dataset.verdict = verdict;
  container.dataset.outcome = report.verdict;
}

function renderPolicy(container, p, source) {
  const from = {
    notary: ['运营方公布的创世信任策略（/v1/ledger/policy，登记变更由证据包携带；请与您持有的策略核对指纹）', "the operator's published genesis policy (/v1/ledger/policy; registry changes come with the bundle; compare its fingerprint with the one you hold)"],
    court: ['您载入的信任策略文件', 'the policy file you loaded'],
    bundle: ['证据包自带的密钥（仅证明一致性，不证明签署者身份）', "the keys inside the bundle (proves consistency, not who signed)"],
  }[source || p.source] || ['', ''];
  container.append(el('h3', {}, bi('所用信任策略', 'Trusted policy used')),
    el('dl', { className: 'policy' },
      el('dt', {}, bi('来源', 'Source')), el('dd', {}, bi(...from)),
      el('dt', {}, bi('指纹 (SM3)', 'Fingerprint (SM3)')), el('dd', {}, el('code', { 'data-fingerprint': p.fingerprint }, p.fingerprint)),
      el('dt', {}, bi('链标识', 'Chain ID')), el('dd', {}, p.chain_id),
      el('dt', {}, bi('存证平台密钥', 'Notary keys')), el('dd', {}, (p.notary_keys || []).map((k) => el('code', { className: 'key' }, k))),
      el('dt', {}, bi('联盟成员', 'Members')), el('dd', {}, (p.members || []).map((m) => el('div', {}, `${m.id} (${m.power}) `, el('code', { className: 'key' }, m.public_key))))));
}

function renderFacts(container, f) {
  const m = f.manifest || {};
  const item = (m.items || [])[f.media_item ?? 0] || {};
  const dl = el('dl', { className: 'facts' });
  const row = (zh, en, value) => { if (value !== undefined && value !== null && value !== '') dl.append(el('dt', {}, bi(zh, en)), el('dd', {}, value)); };
  row('案件', 'Case', m.case && m.case.reference);
  row('案由', 'Cause', m.case && m.case.cause);
  row('文件', 'File', item.file_name && `${item.file_name} (${item.mime}, ${item.bytes} B)`);
  for (const h of item.hashes || []) row(h.algorithm, h.algorithm, el('code', {}, h.value));
  row('设备时间', 'Device time', item.times && beijing(item.times.device_time));
  const fix = item.location && item.location.os_fix;
  row('位置', 'Location', fix && `${fix.latitude}, ${fix.longitude} (±${fix.horizontal_accuracy ?? '?'} m, ${fix.provider})`);
  row('采集人', 'Collectors', m.case && (m.case.collectors || []).join(', '));
  row('设备序号', 'Device sequence', m.device_seq);
  row('接收时间', 'Received', f.receipt && beijing(f.receipt.received_at));
  row('证明 SM3', 'Proof SM3', f.proof_sm3 && el('code', {}, f.proof_sm3));
  row('批次 / 高度', 'Batch / height', `${f.batch_seq} / ${f.anchor_height} (checkpoint ${f.checkpoint_height}, ${f.mode})`);
  row('共同签署成员', 'Cosigners', f.cosigners && f.cosigners.join(', '));
  container.append(el('h3', {}, bi('证据所述事实', 'What the evidence states')), dl);
  const findings = item.findings || [];
  if (findings.length) {
    container.append(el('h3', {}, bi('采集时的发现', 'Findings at capture')),
      el('ul', { className: 'findings' }, findings.map((x) => el('li', { 'data-finding': x.code }, el('code', {}, x.code), ' ', x.detail))));
  }
}

/**
 * The trusted policy of the court and appraiser pages: a policy file the user loads (kept for
 * the session in this tab, its fingerprint shown) is always used; without one, the operator's
 * published policy is fetched and named as the operator's, never silently preferred.
 * `container` receives the file input (`data-input="policy"`) and the fingerprint.
 */
export class PolicyPicker {
  constructor(container) {
    this.key = 'tiezheng-policy';
    const input = el('input', { type: 'file', id: 'policy', accept: '.json,application/json', 'data-input': 'policy' });
    this.fingerprint = el('code', { id: 'policy-fingerprint' }, '—');
    this.source = el('p', { id: 'policy-source' });
    container.replaceChildren(
      el('details', { open: true },
        el('summary', {}, bi('信任策略', 'Trusted policy'), ': ', this.fingerprint),
        this.source,
        el('label', { htmlFor: 'policy' }, bi('载入您自己的信任策略文件（本标签页内保存）', 'Load your own policy file (kept in this tab)')),
        input));
    input.addEventListener('change', async () => {
      const f = input.files[0];
      if (!f) return;
      const text = await f.text();
      try {
        wasm.fingerprint_policy(new TextEncoder().encode(text));
        sessionStorage.setItem(this.key, text);
      } catch (e) {
        this.source.replaceChildren(bi('这不是信任策略文件：', `not a policy file: ${e.message || e}`));
        return;
      }
      this.show();
    });
  }

  /** The policy the user loaded, if any. */
  loaded() {
    const text = sessionStorage.getItem(this.key);
    return text ? new TextEncoder().encode(text) : null;
  }

  /** Shows which policy verification will use. */
  show() {
    const bytes = this.loaded();
    this.source.replaceChildren(bytes
      ? bi('使用您载入的策略文件。', 'Using the policy file you loaded.')
      : bi('未载入策略文件：将使用运营方公布的策略（请与法院持有的策略核对指纹）。', "No policy file loaded: the operator's published policy will be used (compare its fingerprint with the court's)."));
    this.fingerprint.textContent = bytes ? wasm.fingerprint_policy(bytes) : '—';
    this.fingerprint.dataset.source = bytes ? 'court' : 'notary';
  }

  /** `{ bytes, source }`: the loaded policy (`court`), else the operator's (`notary`). */
  async resolve() {
    const bytes = this.loaded();
    if (bytes) return { bytes, source: 'court' };
    const served = new Uint8Array(await (await fetch('/v1/ledger/policy', { cache: 'no-store' })).arrayBuffer());
    this.fingerprint.textContent = wasm.fingerprint_policy(served);
    return { bytes: served, source: 'notary' };
  }
}

// Court lookup: fetch a certificate by its number (GET /v1/certificates/{number}, issue 12),
// offer its PDF and JSON for download, and verify it in this browser with the same verifier
// as `tiezheng verify` against this notary's published policy. Commissioning an appraisal and
// receiving its opinion are commission.js's.
import { wasm, wasmReady, renderReport, bi, el, PolicyPicker } from './portal.js';
import { startCommissions } from './commission.js';

const $ = (id) => document.getElementById(id);

function say(zh, en, state) {
  $('status').replaceChildren(bi(zh, en));
  $('status').dataset.state = state || '';
}

async function get(path, token) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (!r.ok) {
    let body = {};
    try { body = await r.json(); } catch { /* not JSON */ }
    throw Object.assign(new Error(body.message || `HTTP ${r.status}`), { status: r.status });
  }
  return r.blob();
}

function link(blob, name, zh, en) {
  return el('a', { href: URL.createObjectURL(blob), download: name }, bi(zh, en));
}

$('lookup').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  const number = $('number').value.trim();
  $('downloads').replaceChildren();
  $('result').replaceChildren();
  $('result').removeAttribute('data-verdict');
  if (!token || !number) { say('请填写令牌和证书编号。', 'Enter the token and the certificate number.', 'error'); return; }
  try {
    const path = `/v1/certificates/${encodeURIComponent(number)}`;
    const json = await get(path, token);
    // The PDF is fetched (and logged as exported) only when it is asked for.
    const pdfButton = el('button', { type: 'button', className: 'secondary' }, bi('下载证书 PDF', 'Download certificate PDF'));
    pdfButton.addEventListener('click', async () => {
      try {
        const pdf = await get(`${path}.pdf`, token);
        const a = link(pdf, `${number}.pdf`, '', '');
        document.body.append(a);
        a.click();
        setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      } catch (err) {
        say('证书 PDF 不可用：', err.message, 'error');
      }
    });
    $('downloads').append(link(json, `${number}.json`, '下载证书 JSON', 'Download certificate JSON'), ' ', pdfButton);
    const policy = await picker.resolve();
    const report = JSON.parse(wasm.verify(new Uint8Array(await json.arrayBuffer()), undefined, policy.bytes));
    renderReport($('result'), report, { policySource: policy.source });
    say('已取得证书。核验媒体文件请使用“核验”页面。', 'Certificate fetched. To check the media file too, use the Verify page.', 'found');
  } catch (err) {
    say(err.status === 404 ? '未找到该编号的证书。' : '查询失败：', err.message, 'error');
  }
});

let picker;
wasmReady.then(() => {
  picker = new PolicyPicker($('policy-area'));
  picker.show();
  startCommissions({ picker, token: () => $('token').value.trim() });
  document.body.dataset.ready = 'true';
  $('lookup-button').disabled = false;
});

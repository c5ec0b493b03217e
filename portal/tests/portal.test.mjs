// The portal in Debian's Chromium against a live notary (started by tests/portal.rs, which
// passes the notary's address and the evidence files in the environment):
// - the verify page: a valid bundle with its media is valid; a one-byte-altered media file
//   fails the `media` layer; a forged bundle fails its layer and rule; no request carries the
//   media bytes; verification still works after the browser is set offline;
// - the public check page: a genuine number and file, an altered file, an unknown number; no
//   request carries the file and the page shows no personal data;
// - the sign-in forms of /appraiser and /court with scripts blocked: Enter sends nothing and
//   no token reaches a URL;
// - the appraiser workspace: sign in, open the granted case, view an item, verify it, and the
//   custody log shows the view; a case not granted is refused.
// Writes the verdicts it saw to $PORTAL_OUT (JSON) so the Rust test compares them with
// `tiezheng verify`.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { launch } from './browser.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run this through tests/portal.rs (cargo test --test portal)`);
  return v;
};
const URL_ = env('PORTAL_URL');
const F = JSON.parse(env('PORTAL_FILES')); // {bundle, media, altered, forged, forged_layer}
const verdicts = {};

const { context, close } = await launch();
const step = (s) => process.stdout.write(`portal test: ${s}\n`);
try {
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method(), body: r.postDataBuffer() }));
  page.on('pageerror', (e) => step(`page error: ${e.message}`));
  await page.goto(`${URL_}/verify`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  const loaded = requests.length;

  async function verify(evidence, media) {
    await page.setInputFiles('[data-input="certificate"]', evidence);
    await page.setInputFiles('[data-input="media"]', media ? [media] : []);
    await page.click('#verify-button');
    await page.waitForSelector('#result[data-verdict]', { timeout: 60000 });
    return page.evaluate(() => {
      const r = document.getElementById('result');
      return {
        verdict: r.dataset.verdict,
        layers: [...r.querySelectorAll('[data-layer]')].map((l) => ({ layer: l.dataset.layer, status: l.dataset.status, rule: l.dataset.rule })),
      };
    });
  }
  const failing = (r) => r.layers.find((l) => l.status === 'fail');

  step('valid bundle with its media');
  let r = await verify(F.bundle, F.media);
  assert.equal(r.verdict, 'valid', JSON.stringify(r));
  assert.ok(r.layers.filter((l) => l.status === 'ok').length >= 8 && r.layers.every((l) => l.status !== 'fail'), JSON.stringify(r));
  assert.ok(r.layers.some((l) => l.layer === 'media' && l.status === 'ok'));
  verdicts.valid = { verdict: r.verdict };

  step('one byte of the media altered');
  r = await verify(F.bundle, F.altered);
  assert.equal(r.verdict, 'invalid');
  assert.equal(failing(r).layer, 'media', JSON.stringify(r));
  assert.ok(failing(r).rule.startsWith('media'), JSON.stringify(r));
  verdicts.altered = { verdict: r.verdict, layer: failing(r).layer, rule: failing(r).rule };

  step('forged bundle (re-signed with the real notary key)');
  r = await verify(F.forged, F.media);
  assert.equal(r.verdict, 'invalid');
  assert.equal(failing(r).layer, F.forged_layer, JSON.stringify(r));
  assert.ok(failing(r).rule.startsWith(F.forged_layer));
  verdicts.forged = { verdict: r.verdict, layer: failing(r).layer, rule: failing(r).rule };

  step("a court's own policy file");
  await page.setInputFiles('[data-input="policy"]', F.policy);
  r = await verify(F.bundle, F.media);
  assert.equal(r.verdict, 'valid');
  const shown = await page.textContent('#policy-fingerprint');
  assert.equal(await page.getAttribute('#result [data-fingerprint]', 'data-fingerprint'), shown);
  assert.match(shown, /^[0-9a-f]{64}$/);
  await page.setInputFiles('[data-input="policy"]', F.foreign_policy);
  r = await verify(F.bundle, F.media);
  assert.equal(r.verdict, 'invalid');
  assert.equal(failing(r).layer, F.foreign_layer, JSON.stringify(r));
  verdicts.foreign = { verdict: r.verdict, layer: failing(r).layer };
  await page.setInputFiles('[data-input="policy"]', []);

  step('segment hashes of a recording, over byte ranges');
  const seg = JSON.parse(env('PORTAL_SEGMENTS'));
  await page.setInputFiles('[data-input="media"]', F.media);
  const got = await page.evaluate((ranges) => window.tiezhengHashOne(document.querySelector('[data-input="media"]').files[0], 'SM3', ranges), seg.ranges);
  assert.deepEqual(got.segments, seg.sm3);

  step('no request carries the media file');
  const media = readFileSync(F.media);
  const sample = media.subarray(Math.floor(media.length / 2), Math.floor(media.length / 2) + 32);
  for (const q of requests) {
    assert.ok(!q.body || !q.body.includes(sample), `a request carried media bytes: ${q.method} ${q.url}`);
    assert.equal(q.body, null, `the verify page sent a request body: ${q.method} ${q.url}`);
  }
  assert.equal(requests.length, loaded, `requests after the page loaded: ${requests.slice(loaded).map((q) => q.url).join(', ')}`);

  step('offline');
  await context.setOffline(true);
  r = await verify(F.bundle, F.media);
  assert.equal(r.verdict, 'valid');
  r = await verify(F.bundle, F.altered);
  assert.equal(failing(r).layer, 'media');
  await context.setOffline(false);

  step('a certificate opened from its QR code: every value compared');
  verdicts.qr = {};
  for (const [name, q] of [['right', F.qr], ['wrong', { ...F.qr, n: 'TZ-20260101-0000000000000000', c: '0'.repeat(64) }]]) {
    const v = await context.newPage();
    await v.goto(`${URL_}/verify#n=${encodeURIComponent(q.n)}&c=${q.c}&p=${q.p}&f=${q.f}`);
    await v.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
    await v.setInputFiles('[data-input="certificate"]', F.certificate);
    await v.setInputFiles('[data-input="media"]', [F.media]);
    await v.click('#verify-button');
    await v.waitForSelector('#result[data-verdict]', { timeout: 60000 });
    assert.equal(await v.getAttribute('#result', 'data-verdict'), 'valid');
    verdicts.qr[name] = {};
    for (const k of ['n', 'c', 'p', 'f']) verdicts.qr[name][k] = await v.getAttribute(`[data-qr="${k}"]`, 'data-match');
    await v.close();
  }

  step('the court page verifies with a loaded policy, the operator\'s only without one');
  const failingLayer = (p) => p.evaluate(() => {
    const f = document.querySelector('#result [data-layer][data-status="fail"]');
    return f ? f.dataset.layer : null;
  });
  {
    const c = await context.newPage();
    await c.goto(`${URL_}/court`);
    await c.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
    await c.fill('#token', env('PORTAL_COURT_TOKEN'));
    await c.fill('#number', F.qr.n);
    await c.click('#lookup-button');
    await c.waitForSelector('#result[data-verdict]', { timeout: 60000 });
    verdicts.court = { operator: await c.getAttribute('#result', 'data-verdict'), source: await c.getAttribute('#policy-fingerprint', 'data-source') };
    await c.setInputFiles('[data-input="policy"]', F.foreign_policy);
    await c.waitForSelector('#policy-fingerprint[data-source="court"]');
    await c.click('#lookup-button');
    await c.waitForFunction(() => document.getElementById('result').dataset.verdict === 'invalid', null, { timeout: 60000 });
    verdicts.court.pinned = { verdict: 'invalid', layer: await failingLayer(c) };
    await c.close();
  }

  step('the public check: verified, mismatch, not deposited; the file never sent, no personal data');
  {
    const c = await context.newPage();
    const sent = [];
    c.on('request', (q) => sent.push({ url: q.url(), method: q.method(), body: q.postDataBuffer() }));
    c.on('pageerror', (e) => step(`page error: ${e.message}`));
    await c.goto(`${URL_}/check`);
    await c.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
    const check = async (number, file) => {
      await c.fill('[data-input="number"]', number);
      await c.setInputFiles('[data-input="media"]', file);
      await c.evaluate(() => document.getElementById('result').removeAttribute('data-outcome'));
      await c.click('#check-button');
      await c.waitForSelector('#result[data-outcome]', { timeout: 60000 });
      return c.getAttribute('#result', 'data-outcome');
    };
    verdicts.check = {
      genuine: await check(F.qr.n, F.media),
      altered: await check(F.qr.n, F.altered),
      unknown: await check('TZ-20260101-0000000000000000', F.media),
    };
    await check(F.qr.n, F.media);
    const text = await c.evaluate(() => document.body.innerText);
    verdicts.check.shows = F.personal.filter((p) => text.includes(p));
    const mediaBytes = readFileSync(F.media);
    const piece = mediaBytes.subarray(Math.floor(mediaBytes.length / 2), Math.floor(mediaBytes.length / 2) + 32);
    verdicts.check.bodies = sent.filter((q) => q.body && q.body.length > 0).map((q) => q.url);
    verdicts.check.carried_media = sent.some((q) => q.body && q.body.includes(piece));
    verdicts.check.api = [...new Set(sent.map((q) => new URL(q.url).pathname).filter((p) => p.startsWith('/v1/')))].sort();
    await c.close();
  }

  step('sign-in forms with scripts blocked put no token anywhere');
  for (const [path, fields] of [['/appraiser', ['#token']], ['/court', ['#token', '#number']]]) {
    const b = await context.newPage();
    const sent = [];
    b.on('request', (q) => sent.push(`${q.url()} ${q.postData() || ''}`));
    await b.route('**/*.js', (route) => route.abort());
    await b.goto(`${URL_}${path}`);
    const secret = `tza_leak-probe-${Date.now()}-0123456789abcdef`;
    for (const f of fields) await b.fill(f, secret);
    await b.press(fields[fields.length - 1], 'Enter');
    await b.waitForTimeout(500);
    assert.ok(!b.url().includes('leak-probe') && !b.url().includes('token='), `${path}: ${b.url()}`);
    assert.ok(!sent.some((q) => q.includes('leak-probe')), `${path} sent the token: ${sent.join(' | ')}`);
    assert.ok(await b.isDisabled('button[type="submit"]'), `${path}: submit enabled without scripts`);
    await b.close();
  }
  verdicts.no_token_in_urls = true;

  step('appraiser signs in and opens the granted case');
  const a = await context.newPage();
  a.on('pageerror', (e) => step(`page error: ${e.message}`));
  await a.goto(`${URL_}/appraiser`);
  await a.waitForSelector('body[data-ready="true"]');
  await a.fill('#token', env('PORTAL_APPRAISER_TOKEN'));
  await a.press('#token', 'Enter');
  const granted = env('PORTAL_GRANTED_CASE');
  await a.click(`[data-case="${granted}"]`);
  await a.waitForSelector('#case[data-state="open"][data-thumbnails="loaded"]');
  assert.match(await a.getAttribute(`#items img[data-thumbnail^="${env('PORTAL_PROOF')}"]`, 'src'), /^blob:/, 'the photo has a thumbnail');
  step('views an item');
  await a.click(`#items a[data-proof="${env('PORTAL_PROOF')}"]`);
  await a.waitForSelector('#custody[data-custody="intact"]');
  const actor = `appraiser:${env('PORTAL_APPRAISER_ID')}`;
  assert.ok(await a.$(`#custody tr[data-event="viewed"][data-actor="${actor}"]`), 'the custody log shows the view');
  assert.match(await a.innerText('#custody tbody'), /北京时间 \(UTC\+8\)/, 'times in Beijing time, offset stated');
  assert.match(await a.innerText('#facts'), /北京时间 \(UTC\+8\)/);
  step('verifies it');
  await a.click('#verify-item');
  await a.waitForSelector('#item-result[data-verdict], #item-result .error', { timeout: 60000 });
  assert.ok(await a.$('#item-result[data-verdict]'), await a.innerText('#item-result'));
  assert.equal(await a.getAttribute('#item-result', 'data-verdict'), 'valid');
  // The page does not re-read the log after its own actions; asked to, it shows the exports.
  assert.equal(await a.$(`#custody tr[data-event="exported"][data-actor="${actor}"]`), null);
  await a.click('#refresh-custody');
  await a.waitForSelector(`#custody tr[data-event="exported"][data-actor="${actor}"]`);
  assert.equal(await a.getAttribute('#custody', 'data-custody'), 'intact');
  verdicts.appraiser = 'valid';
  step('the appraiser page verifies with a loaded policy');
  await a.setInputFiles('[data-input="policy"]', F.foreign_policy);
  await a.waitForSelector('#policy-fingerprint[data-source="court"]');
  await a.click('#verify-item');
  await a.waitForFunction(() => document.getElementById('item-result').dataset.verdict === 'invalid', null, { timeout: 60000 });
  verdicts.appraiser_pinned = await a.evaluate(() => {
    const f = document.querySelector('#item-result [data-layer][data-status="fail"]');
    return f ? f.dataset.layer : null;
  });

  step('a case not granted is refused');
  await a.goto(`${URL_}/appraiser#case=${encodeURIComponent(env('PORTAL_OTHER_CASE'))}`);
  await a.waitForSelector('#case[data-state="refused"]');
  verdicts.refused = true;

  writeFileSync(env('PORTAL_OUT'), JSON.stringify(verdicts));
  step('all passed');
} finally {
  await close();
}

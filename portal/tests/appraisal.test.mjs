// A judicial appraisal driven entirely through the portal's pages in Debian's Chromium, against
// a live notary (started by tests/portal_appraisal.rs, which passes its address, the tokens and
// the files in the environment). Five isolated browser contexts, each a person at their own
// computer: the court, the institution, two appraisers and the reviewer.
// - Every party makes its SM2 key in its browser; a wrong passphrase does not unlock it; an
//   appraiser's encrypted backup restores the key in a fresh browser.
// - The consortium registers the court's and the institution's public keys (this script writes
//   the notary's judicial parties file and the court's policy with them).
// - The institution issues each appraiser's credential; each appraiser loads theirs.
// - The court commissions; the institution accepts (a second acceptance is refused with its
//   typed error and changes nothing) and assigns; all three declare; both appraisers receive
//   the material hashed in their browsers and record their in-browser verification; one
//   drafts the opinion, the other co-signs, the reviewer's signature on it is refused, the
//   institution signs last; the reviewer approves; the institution delivers, then revokes
//   A-102's key from now on.
// - The court fetches the opinion PDF and its page verifies it; then the verify page, offline,
//   verifies the same PDF against the court's policy.
// Writes {commission_sm3, opinion_pdf, policy, page_verdict, offline_verdict} to $APPRAISAL_OUT.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from './browser.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run this through tests/portal_appraisal.rs (cargo test --test portal_appraisal)`);
  return v;
};
const URL_ = env('APPRAISAL_URL');
const C = JSON.parse(env('APPRAISAL_CONFIG')); // {dir, parties_file, policy, case, tokens: {court, institution, a1, a2, r}}
const COURT = 'shanghai-pudong-court';
const INSTITUTE = 'east-china-forensic-institute';
const log = (s) => process.stdout.write(`appraisal test: ${s}\n`);

const browser = await launchBrowser();
const contexts = [];
async function person(name) {
  const context = await browser.newContext({ acceptDownloads: true, timezoneId: 'Asia/Shanghai', locale: 'zh-CN' });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => log(`${name}: page error: ${e.message}`));
  return { name, context, page };
}

async function signIn(p, token) {
  await p.page.goto(`${URL_}/appraiser`);
  await p.page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  await p.page.fill('#token', token);
  await p.page.press('#token', 'Enter');
  await p.page.waitForSelector('body[data-workspace="ready"]', { timeout: 30000 });
}

async function identity(p, role, id) {
  await p.page.selectOption('#me-role', role);
  await p.page.fill('#me-id', id);
}

async function keyState(p, state) {
  await p.page.waitForSelector(`[data-key-status][data-state="${state}"]`, { timeout: 30000 });
}

async function generateKey(p, passphrase) {
  await p.page.fill('#key-passphrase', passphrase);
  await p.page.click('#key-generate');
  await keyState(p, 'unlocked');
  return p.page.getAttribute('#key-public', 'data-public-key');
}

async function unlockKey(p, passphrase, expect = 'unlocked') {
  await p.page.fill('#key-passphrase', passphrase);
  await p.page.click('#key-unlock');
  await keyState(p, expect);
}

async function download(page, selector, dir, name) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const path = join(dir, name);
  await d.saveAs(path);
  return path;
}

const steps = (p) => p.page.getAttribute('#steps', 'data-steps').then(Number);

async function open(p, sm3) {
  await p.page.evaluate((h) => { location.hash = h; }, `appraisal=${sm3}`);
  await p.page.waitForSelector(`#procedure[data-commission="${sm3}"]`, { timeout: 30000 });
}

async function refresh(p) {
  await p.page.click('#procedure-refresh');
  await p.page.waitForSelector('#procedure-status[data-state="done"]', { timeout: 30000 });
}

/** Clicks an action and waits for its outcome: done, with the procedure at `count` steps. */
async function act(p, selector, count) {
  await p.page.evaluate(() => { delete document.getElementById('procedure-status').dataset.state; });
  await p.page.click(selector);
  await p.page.waitForSelector('#procedure-status[data-state]', { timeout: 60000 });
  const state = await p.page.getAttribute('#procedure-status', 'data-state');
  const text = await p.page.textContent('#procedure-status');
  assert.equal(state, 'done', `${p.name}: ${selector}: ${text}`);
  if (count !== undefined) await p.page.waitForSelector(`#steps[data-steps="${count}"]`, { timeout: 30000 });
}

/** Clicks an action the notary must refuse with `code`; the procedure stays at `count` steps. */
async function refused(p, selector, code, count) {
  await p.page.evaluate(() => { delete document.getElementById('procedure-status').dataset.state; });
  await p.page.click(selector);
  await p.page.waitForSelector('#procedure-status[data-state]', { timeout: 60000 });
  const text = await p.page.textContent('#procedure-status');
  assert.equal(await p.page.getAttribute('#procedure-status', 'data-code'), code, `${p.name}: ${selector}: ${text}`);
  assert.equal(await steps(p), count, `${p.name}: nothing changed after ${selector}`);
  return text;
}

const out = {};
try {
  const court = await person('court');
  const inst = await person('institution');
  const a1 = await person('A-101');
  let a2 = await person('A-102');
  const r = await person('R-201');

  log('every party makes its key in its own browser');
  await court.page.goto(`${URL_}/court`);
  await court.page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  await court.page.fill('#token', C.tokens.court);
  await court.page.fill('#court-id', COURT);
  const courtKey = await generateKey(court, 'court passphrase 1');
  await signIn(inst, C.tokens.institution);
  await identity(inst, 'institution', INSTITUTE);
  const instKey = await generateKey(inst, 'institution passphrase 1');
  const people = [[a1, 'A-101', C.tokens.a1], [a2, 'A-102', C.tokens.a2], [r, 'R-201', C.tokens.r]];
  const keys = {};
  for (const [p, id, token] of people) {
    await signIn(p, token);
    await identity(p, 'appraiser', id);
    keys[id] = await generateKey(p, `${id} passphrase`);
  }
  assert.equal(new Set([courtKey, instKey, ...Object.values(keys)]).size, 5, 'five distinct keys');

  log('the key stays encrypted in the browser: reload, a wrong passphrase, the right one');
  const kept = await a1.page.evaluate(() => localStorage.getItem('tiezheng-key:A-101'));
  assert.ok(kept && !kept.includes('"secret"') && JSON.parse(kept).public_key === keys['A-101'], kept);
  await a1.page.reload();
  await a1.page.waitForSelector('body[data-workspace="ready"]', { timeout: 30000 });
  await identity(a1, 'appraiser', 'A-101');
  await keyState(a1, 'locked');
  await unlockKey(a1, 'not the passphrase', 'error');
  await unlockKey(a1, 'A-101 passphrase');

  log("A-102's encrypted backup restores the key in a fresh browser");
  const backup = await download(a2.page, '#key-export', C.dir, 'A-102.key-backup.json');
  assert.equal(JSON.parse(readFileSync(backup, 'utf8')).public_key, keys['A-102']);
  a2 = await person('A-102 (new computer)');
  await signIn(a2, C.tokens.a2);
  await a2.page.setInputFiles('#key-import', backup);
  await keyState(a2, 'locked');
  assert.equal(await a2.page.inputValue('#me-id'), 'A-102');
  await unlockKey(a2, 'A-102 passphrase');
  assert.equal(await a2.page.getAttribute('#key-public', 'data-public-key'), keys['A-102']);
  people[1][0] = a2;

  log('the consortium registers the court and the institution by their public keys');
  writeFileSync(C.parties_file, JSON.stringify([
    { id: COURT, role: 'court', public_key: courtKey },
    { id: INSTITUTE, role: 'appraisal_institution', public_key: instKey },
  ], null, 2));
  const policy = JSON.parse(readFileSync(C.policy, 'utf8'));
  policy.parties = JSON.parse(readFileSync(C.parties_file, 'utf8'));
  const courtPolicy = join(C.dir, 'court-policy.json');
  writeFileSync(courtPolicy, JSON.stringify(policy));
  out.policy = courtPolicy;

  log('the institution issues each credential; each appraiser loads theirs');
  for (const [p, id] of people) {
    await inst.page.fill('#issue-id', id);
    await inst.page.fill('#issue-name', `鉴定人 ${id}`);
    await inst.page.fill('#issue-licence', `沪司鉴 ${id}`);
    await inst.page.fill('#issue-key', keys[id]);
    await inst.page.click('#issue-button');
    await inst.page.waitForSelector(`#issue-download[data-appraiser="${id}"]`, { timeout: 30000 });
    const file = await download(inst.page, '#issue-download', C.dir, `${id}.credential.json`);
    await p.page.setInputFiles('#credential-import', file);
    await p.page.waitForSelector(`#credential-show[data-credential="${id}"]`, { timeout: 30000 });
  }

  log('the court commissions');
  await court.page.setInputFiles('#policy', courtPolicy);
  await court.page.fill('#commission-case', C.case);
  await court.page.click('#commission-load');
  await court.page.waitForSelector('#commission-items input[type=checkbox]', { timeout: 30000 });
  await court.page.check('#commission-items input[type=checkbox]');
  await court.page.fill('#commission-reference', '(2026)沪0115行初0002号');
  await court.page.selectOption('#commission-institution', INSTITUTE);
  await court.page.fill('#commission-questions', '检材是否为执法记录设备采集后未经修改的原始文件？ Is the material the unaltered original the device captured?');
  await court.page.click('#commission-submit');
  await court.page.waitForSelector('#commission-status[data-commission]', { timeout: 30000 });
  const sm3 = await court.page.getAttribute('#commission-status', 'data-commission');
  out.commission_sm3 = sm3;

  log('the institution accepts (twice: the second is refused) and assigns');
  await inst.page.click('#procedures-refresh');
  await inst.page.waitForSelector(`#procedure-list li[data-commission="${sm3}"]`, { timeout: 30000 });
  await inst.page.click(`#procedure-list li[data-commission="${sm3}"] a`);
  await inst.page.waitForSelector(`#procedure[data-commission="${sm3}"]`, { timeout: 30000 });
  await act(inst, '#act-accept', 2);
  const second = await refused(inst, '#act-accept', 'appraisal_step_refused', 2);
  assert.match(second, /appraisal\.order/);
  await inst.page.fill('#assign-appraisers', 'A-101, A-102');
  await inst.page.fill('#assign-reviewer', 'R-201');
  await act(inst, '#act-assign', 3);

  log('each declares no conflict');
  let n = 3;
  for (const [p] of people) {
    await open(p, sm3);
    n += 1;
    await act(p, '#act-declare', n);
  }

  log('both appraisers receive the material, hashed in their browsers, and record their verification');
  for (const p of [a1, a2]) {
    await refresh(p);
    n += 1;
    await act(p, '#act-receive', n);
    assert.equal(await p.page.getAttribute('#material tbody tr', 'data-match'), 'true');
  }
  for (const p of [a1, a2]) {
    await act(p, '#record-verify');
    await p.page.waitForSelector('#record-reports [data-verdict="valid"]', { timeout: 60000 });
    assert.equal(await p.page.inputValue('#record-result'), 'valid: every rule passed');
    n += 1;
    await act(p, '#act-record', n);
  }

  log('A-101 drafts the opinion, A-102 co-signs, the reviewer may not, the institution signs last');
  await refresh(a1);
  await a1.page.fill('#finding-0', '是。检材的SM3与执法设备采集时签名、存证并上链的值一致，未见修改。 Yes: no alteration.');
  await act(a1, '#act-draft', n);
  await a1.page.waitForSelector(`[data-missing="A-102,${INSTITUTE}"]`, { timeout: 30000 });
  await refresh(a2);
  await act(a2, '#draft-sign', n);
  await a2.page.waitForSelector(`[data-missing="${INSTITUTE}"]`, { timeout: 30000 });
  await refresh(r);
  const notHis = await refused(r, '#draft-sign', 'appraisal_step_refused', n);
  assert.match(notHis, /appraisal\.opinion/);
  await refresh(inst);
  n += 1;
  await act(inst, '#draft-sign', n);

  log('the reviewer approves; the institution delivers');
  await refresh(r);
  await r.page.fill('#review-remarks', '复核同意 / approved on review');
  n += 1;
  await act(r, '#act-approve', n);
  await refresh(inst);
  n += 1;
  await act(inst, '#act-deliver', n);
  log("the institution revokes A-102's key from now on (its past signatures stand)");
  await inst.page.fill('#revoke-appraiser', 'A-102');
  await inst.page.fill('#revoke-reason', '执业证暂停 / licence suspended');
  await act(inst, '#act-revoke', n);
  const acts = await inst.page.$$eval('#steps li', (lis) => lis.map((l) => l.dataset.act));
  assert.deepEqual(acts, ['commission', 'acceptance', 'assignment', 'declaration', 'declaration', 'declaration',
    'material_receipt', 'material_receipt', 'record_entry', 'record_entry', 'opinion', 'review', 'delivery']);

  log('the court fetches the opinion and verifies it in its page');
  await court.page.click('#commissions-refresh');
  await court.page.waitForSelector(`[data-fetch="${sm3}"]`, { timeout: 30000 });
  await court.page.click(`[data-fetch="${sm3}"]`);
  await court.page.waitForSelector('#opinion-result[data-verdict]', { timeout: 60000 });
  out.page_verdict = await court.page.getAttribute('#opinion-result', 'data-outcome');
  const opinionPdf = await download(court.page, '#opinion-pdf', C.dir, 'opinion.pdf');
  out.opinion_pdf = opinionPdf;
  assert.equal(out.page_verdict, 'valid', await court.page.textContent('#opinion-result'));

  log('the verify page, offline, verifies the same PDF against the court policy');
  const verify = await court.context.newPage();
  await verify.goto(`${URL_}/verify`);
  await verify.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  await court.context.setOffline(true);
  await verify.setInputFiles('[data-input="certificate"]', opinionPdf);
  await verify.setInputFiles('[data-input="policy"]', courtPolicy);
  await verify.click('#verify-button');
  await verify.waitForSelector('#result[data-verdict]', { timeout: 60000 });
  out.offline_verdict = await verify.getAttribute('#result', 'data-outcome');
  out.offline_layers = await verify.$$eval('#result [data-layer]', (ls) => ls.map((l) => [l.dataset.layer, l.dataset.status]));
  assert.equal(out.offline_verdict, 'valid', await verify.textContent('#result'));
  assert.ok(out.offline_layers.some(([l, s]) => l === 'appraisal' && s === 'ok'), JSON.stringify(out.offline_layers));
  await court.context.setOffline(false);
} finally {
  writeFileSync(env('APPRAISAL_OUT'), JSON.stringify(out, null, 2));
  for (const c of contexts) await c.close().catch(() => {});
  await browser.close();
}
log('done');

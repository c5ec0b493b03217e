// A party's SM2 signing key in this browser (courts, institutions, appraisers): made by the
// WebAssembly SM2 code, kept in localStorage only encrypted under the holder's passphrase
// (PBKDF2-SHA-256, 600,000 iterations, then AES-256-GCM with the public key as associated
// data), exportable as that same encrypted backup, and unlocked into this tab's memory only.
// The private key is never sent anywhere; the notary sees public keys and signed documents.
// The record is `tiezheng.party-key.v1` (sdk/src/party_key.rs): `tiezheng appraisal key` reads
// and writes the same files, so an exported backup moves a key between browser and CLI.
import { wasm, bi, el } from './portal.js';

const FORMAT = 'tiezheng.party-key.v1';
const ITERATIONS = 600000;
const PREFIX = 'tiezheng-key:';

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

async function aesKey(passphrase, salt, iterations) {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base,
    { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** A passphrase is at least 8 characters. */
function checkPassphrase(p) {
  if (typeof p !== 'string' || p.length < 8) {
    throw new Error('口令至少 8 个字符 · the passphrase has at least 8 characters');
  }
}

/** The stored (encrypted) key of `owner`, or null. */
export function stored(owner) {
  const text = localStorage.getItem(PREFIX + owner);
  return text ? JSON.parse(text) : null;
}

/** Makes a key for `owner`, encrypts it under `passphrase` and keeps it; returns the secret. */
export async function create(owner, passphrase) {
  checkPassphrase(passphrase);
  const k = JSON.parse(wasm.generate_key());
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await aesKey(passphrase, salt, ITERATIONS);
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(k.public_key) },
    key, new TextEncoder().encode(k.secret));
  const record = {
    format: FORMAT, owner, public_key: k.public_key, key_id: k.key_id, created_at: new Date().toISOString(),
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: ITERATIONS, salt: b64(salt) },
    cipher: { name: 'AES-GCM', iv: b64(iv) }, ciphertext: b64(ciphertext),
  };
  localStorage.setItem(PREFIX + owner, JSON.stringify(record));
  return k.secret;
}

/** The secret of `record` under `passphrase`; a wrong passphrase is an error, never a key. */
export async function unlock(record, passphrase) {
  const key = await aesKey(passphrase, unb64(record.kdf.salt), record.kdf.iterations);
  let plain;
  try {
    plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(record.cipher.iv), additionalData: new TextEncoder().encode(record.public_key) },
      key, unb64(record.ciphertext));
  } catch {
    throw new Error('口令不正确 · wrong passphrase');
  }
  const secret = new TextDecoder().decode(plain);
  if (JSON.parse(wasm.key_public(secret)).public_key !== record.public_key) {
    throw new Error('备份已损坏：私钥与公钥不符 · the backup is damaged: the key does not match its public key');
  }
  return secret;
}

/** Reads an exported backup and keeps it for its owner; returns the record. */
export function importBackup(text) {
  let r;
  try { r = JSON.parse(text); } catch { throw new Error('不是密钥备份文件 · not a key backup (not JSON)'); }
  const fields = ['owner', 'public_key', 'key_id', 'ciphertext'];
  if (!r || r.format !== FORMAT || fields.some((f) => typeof r[f] !== 'string') || !r.kdf || !r.cipher
    || !/^04[0-9a-f]{128}$/.test(r.public_key) || !Number.isInteger(r.kdf.iterations) || r.kdf.iterations < 100000) {
    throw new Error(`不是密钥备份文件 · not a key backup: "format" must be ${FORMAT}, with owner, public_key, kdf, cipher and ciphertext`);
  }
  localStorage.setItem(PREFIX + r.owner, JSON.stringify(r));
  return r;
}

/**
 * The key panel of a workspace page: who you are (`owner`), your key's state, and the buttons
 * to make, unlock, export or import it. `onChange()` is called when the key is unlocked or
 * locked. `panel.secret` holds the unlocked key (this tab's memory only).
 */
export class KeyPanel {
  constructor(container, { ownerInput, onChange = () => {} }) {
    this.container = container;
    this.ownerInput = ownerInput;
    this.onChange = onChange;
    this.secret = null;
    this.ownerInput.addEventListener('input', () => { this.lock(); this.render(); });
    this.render();
  }

  get owner() { return this.ownerInput.value.trim(); }

  get record() { return this.owner ? stored(this.owner) : null; }

  lock() {
    this.secret = null;
    this.onChange();
  }

  status(zh, en, state) {
    const s = this.container.querySelector('[data-key-status]');
    s.replaceChildren(bi(zh, en));
    s.dataset.state = state;
  }

  render() {
    const r = this.record;
    const pass = el('input', { type: 'password', id: 'key-passphrase', autocomplete: 'new-password', minLength: 8 });
    const importInput = el('input', { type: 'file', id: 'key-import', accept: '.json,application/json' });
    const status = el('p', { 'data-key-status': '', role: 'status', 'aria-live': 'polite' });
    const parts = [
      el('div', { className: 'field' },
        el('label', { for: 'key-passphrase' }, bi('密钥口令（至少 8 个字符，仅用于在本浏览器中加密私钥）', 'Key passphrase (at least 8 characters; only encrypts the key in this browser)')),
        pass),
    ];
    if (!r) {
      const gen = el('button', { type: 'button', id: 'key-generate' }, bi('生成签名密钥', 'Generate my signing key'));
      gen.addEventListener('click', async () => {
        if (!this.owner) { this.status('请先填写您的标识。', 'Enter your id first.', 'error'); return; }
        try {
          this.secret = await create(this.owner, pass.value);
          this.render();
          this.status('已生成并解锁。私钥已加密保存在本浏览器中，请导出备份。', 'Generated and unlocked. The key is kept encrypted in this browser: export a backup.', 'unlocked');
          this.onChange();
        } catch (e) { this.status('无法生成：', e.message, 'error'); }
      });
      parts.push(gen);
    } else {
      const unlockButton = el('button', { type: 'button', id: 'key-unlock' }, bi('解锁', 'Unlock'));
      unlockButton.addEventListener('click', async () => {
        try {
          this.secret = await unlock(r, pass.value);
          pass.value = '';
          this.status('已解锁（仅在本标签页内存中）。', 'Unlocked (in this tab\'s memory only).', 'unlocked');
          this.onChange();
        } catch (e) { this.status('无法解锁：', e.message, 'error'); }
      });
      const exportButton = el('button', { type: 'button', id: 'key-export', className: 'secondary' }, bi('导出加密备份', 'Export encrypted backup'));
      exportButton.addEventListener('click', () => {
        const a = el('a', { href: URL.createObjectURL(new Blob([JSON.stringify(r, null, 2)], { type: 'application/json' })), download: `${r.owner}.key-backup.json` });
        document.body.append(a);
        a.click();
        setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
      parts.push(unlockButton, ' ', exportButton,
        el('p', {}, bi('公钥', 'Public key'), ': ', el('code', { id: 'key-public', className: 'key', 'data-public-key': r.public_key }, r.public_key)));
    }
    parts.push(el('div', { className: 'field' },
      el('label', { for: 'key-import' }, bi('从备份恢复密钥', 'Restore a key from its backup')), importInput));
    importInput.addEventListener('change', async () => {
      const f = importInput.files[0];
      if (!f) return;
      try {
        const rec = importBackup(await f.text());
        this.ownerInput.value = rec.owner;
        this.secret = null;
        this.render();
        this.status('已恢复，请输入口令解锁。', 'Restored: enter the passphrase to unlock.', 'locked');
      } catch (e) { this.status('无法恢复：', e.message, 'error'); }
    });
    parts.push(status);
    this.container.replaceChildren(...parts);
    if (r && !this.secret) this.status('已锁定。', 'Locked.', 'locked');
    if (r && this.secret) this.status('已解锁（仅在本标签页内存中）。', 'Unlocked (in this tab\'s memory only).', 'unlocked');
    if (!r) this.status('本浏览器中还没有此标识的密钥。', 'No key for this id in this browser yet.', 'none');
  }
}

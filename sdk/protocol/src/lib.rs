/*!
The protocol core of Tiezheng (铁证): the one definition of every crypto operation and wire
format, shared by the SDK on the phone, the notary, the consortium ledger and the offline
verifier.

* [`hash`]: SM3 and SHA-256 over the same bytes in one streaming pass ([`DualHasher`],
  [`hash_reader`]), constant memory for any file size.
* [`sm2`]: SM2-with-SM3 signatures on the recommended curve with an explicit distinguishing
  ID, strict DER and point parsing ([`Sm2SigningKey`], [`Sm2PublicKey`], [`Sm2Signature`]).
* [`canonical`]: RFC 8785 canonical JSON, the exact bytes every signature covers, and a strict
  parser for untrusted input (no duplicate names, no floats).
* [`signed`]: the [`SignatureBlock`] that accompanies every signed document.
* [`merkle`]: RFC 6962/9162 Merkle trees with SM3, inclusion and consistency proofs.
* [`wire`] and [`schema`]: wire documents and their generated JSON Schemas (`schemas/`).
* [`manifest`]: the evidence manifest and the device [`Proof`] (manifest + signature).
* [`bundle`]: the offline proof bundle.
* [`verify`]: the verifier: every rule of `VERIFYING.md`, each check reported by layer and rule.
* [`certificate`]: the notarised certificate (存证证书), signed by the notary, its facts
  derived from the bundle it embeds, and its verifier; [`pdf`] finds it attached to a PDF.
* [`profile`]: forensic profiles (取证规范) and the procedure a manifest records.
* [`custody`]: the hash-chained custody log and the check of its integrity.
* [`ledger`]: batch headers, anchor records and SM2-cosigned checkpoints of the ledger.
* [`officer`]: officers' own keys: enrolment, the notary's credential, signatures over manifests.
* [`notary`]: enrolment, device certificates, signed receipts and the API error shape.
* [`time`]: RFC 3339 timestamps with explicit offsets.
* [`algorithm`]: algorithm names and OIDs.

```
use tiezheng_protocol::{canonical, hash_reader, SignatureBlock, Sm2SigningKey};

let digests = hash_reader(&b"photo bytes"[..], |_| {}).unwrap();
let doc = serde_json::json!({"sm3": digests.sm3, "bytes": digests.bytes});
let key = Sm2SigningKey::generate();
let signature = SignatureBlock::sign(&key, &doc).unwrap();
assert_eq!(signature.verify_value(&doc).unwrap(), *key.public_key());
let signed_bytes = canonical::canonicalize(&doc).unwrap();
assert!(signed_bytes.starts_with(br#"{"bytes":11,"sm3":"#));
```
*/
#![forbid(unsafe_code)]

pub mod algorithm;
pub mod appraisal;
pub mod bundle;
pub mod canonical;
pub mod certificate;
pub mod cometbft;
pub mod custody;
pub mod digest;
pub mod frontier;
pub mod hash;
pub mod json_diff;
pub mod ledger;
pub mod manifest;
pub mod merkle;
pub mod notary;
pub mod officer;
pub mod pdf;
pub mod profile;
pub mod schema;
pub mod signed;
pub mod sm2;
pub mod time;
pub mod verify;
pub mod wire;

pub use algorithm::{HashAlgorithm, SignatureAlgorithm};
pub use hash::{ContentDigests, ContentHasher, DualHasher, Hash32, hash_reader};
pub use manifest::{Manifest, Proof, VerifiedProof};
pub use merkle::{MerkleTree, Sm3Hasher};
pub use signed::{SignatureBlock, SignedError};
pub use sm2::{DEFAULT_SM2_ID, Sm2PublicKey, Sm2Signature, Sm2SigningKey};
pub use time::Timestamp;
pub use wire::{ConsistencyProof, ContentHash, HashRecord, InclusionProof};

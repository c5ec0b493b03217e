/*!
The Tiezheng notary: the service officers' phones talk to.

It enrols devices, verifies incoming proofs against [`tiezheng_protocol`] (canonical form,
SM2 signature, device chain), stores proofs and media durably before answering, returns an
SM2-signed receipt for each proof, batches proofs into SM3 Merkle trees, anchors the batch
roots on the consortium ledger (`tiezheng-chain`) and issues notarised certificates.

The service itself arrives with the notary work item; this crate currently pins the protocol
core it will be built on, so that no wire format or crypto operation is defined twice.
*/
#![forbid(unsafe_code)]

pub use tiezheng_protocol as protocol;

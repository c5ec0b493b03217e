/*!
The Tiezheng consortium ledger, run together by court, police, procuratorate and notary office.

Its state is an append-only SM3 Merkle log of anchor records ([`tiezheng_protocol::merkle`])
plus the member registry; production runs it as the ABCI application of CometBFT v0.38, and a
single machine runs the same state machine embedded, in-process.

The ledger arrives with the chain work item; this crate currently pins the protocol core it
will be built on, so that Merkle trees and signatures are defined once.
*/
#![forbid(unsafe_code)]

pub use tiezheng_protocol as protocol;

/*!
The Tiezheng consortium ledger, run together by court, police, procuratorate and notary office.

[`ledger::Ledger`] is the deterministic state machine: a registry of member organisations (SM2
keys, voting power) and registered notaries, and an append-only SM3 Merkle log of
[anchor records](tiezheng_protocol::ledger::AnchorRecord), one per batch of receipted proofs a
notary anchors with an SM2-signed
[batch header](tiezheng_protocol::ledger::SignedBatchHeader). Its app hash commits to the log
and the registry; its [checkpoint](tiezheng_protocol::ledger::Checkpoint) is what members cosign
with SM2, so that a court can check the ledger with SM2 alone; inclusion and consistency
proofs exist against any height. The registry itself changes only through
[governance transactions](tiezheng_protocol::ledger::GovernanceTx) approved with SM2 by more
than two thirds of the members' voting power.

Two drivers of the same state machine, producing the same data shapes:
- [`abci::LedgerApp`], the ABCI 2.0 application of each member's CometBFT v0.38 validator
  (`tiezheng ledger serve`): the members' SM2 cosignatures of each checkpoint travel in vote
  extensions and are put, with more than two thirds of the voting power, first in the next
  block; validators reject blocks without them;
- [`embedded::EmbeddedChain`], the ledger in the notary's own process as a single validator
  with a quorum of one, storing its blocks durably and replaying them on start.
*/
#![forbid(unsafe_code)]

pub mod abci;
pub mod embedded;
pub mod ledger;
pub mod rpc;

pub use tiezheng_protocol as protocol;

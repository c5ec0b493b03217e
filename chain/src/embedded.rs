//! The embedded driver: the ledger as a single validator in the notary's own process.
//!
//! Each [`EmbeddedChain::commit_block`] executes a block, cosigns the resulting checkpoint with
//! the one member's SM2 key (a quorum of one), and appends the block (height, time, transactions)
//! to `blocks.jsonl`, flushed to disk before returning. Reopening replays the file through the
//! same state machine, so the state after a crash is exactly the committed blocks'. The data
//! shapes are those of the consortium mode; only the quorum differs.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read as _, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tiezheng_protocol::ledger::CosignedCheckpoint;
use tiezheng_protocol::{Sm2SigningKey, Timestamp};

use crate::ledger::{Genesis, Ledger, LedgerError, TxResult};

/// Why the embedded chain failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddedError {
    /// Reading or writing the block file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A stored block does not replay (the file was altered).
    #[error("{}: block {height} does not replay: {reason}", path.display())]
    Replay {
        /// The file.
        path: PathBuf,
        /// The block.
        height: u64,
        /// Why.
        reason: String,
    },
    /// The ledger refused a block.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Signing the checkpoint failed.
    #[error("cosigning the checkpoint failed: {0}")]
    Cosign(String),
}

#[derive(Serialize, Deserialize)]
struct StoredBlock {
    height: u64,
    time: Timestamp,
    txs: Vec<String>,
    /// The app hash the block produced: replay must reproduce it exactly.
    app_hash: tiezheng_protocol::Hash32,
}

/// A single-validator chain stored in one directory.
#[derive(Debug)]
pub struct EmbeddedChain {
    ledger: Ledger,
    genesis: Genesis,
    member: String,
    key: Sm2SigningKey,
    dir: PathBuf,
    path: PathBuf,
    checkpoints: Vec<CosignedCheckpoint>,
}

impl EmbeddedChain {
    /// Opens (or starts) the chain in `dir`, replaying its blocks. `member` with `key` is the
    /// single cosigning organisation; it must be the only member of `genesis`.
    pub fn open(
        dir: &Path,
        genesis: &Genesis,
        member: &str,
        key: Sm2SigningKey,
    ) -> Result<Self, EmbeddedError> {
        let path = dir.join("blocks.jsonl");
        let io = |source| EmbeddedError::Io {
            path: path.clone(),
            source,
        };
        private_dir(dir).map_err(io)?;
        let mut chain = Self {
            ledger: Ledger::new(genesis)?,
            genesis: genesis.clone(),
            member: member.to_owned(),
            key,
            dir: dir.to_owned(),
            path: path.clone(),
            checkpoints: Vec::new(),
        };
        if let Ok(f) = File::open(&path) {
            let mut reader = BufReader::new(f);
            let mut good_bytes: u64 = 0;
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = reader.read_until(b'\n', &mut line).map_err(io)?;
                if n == 0 {
                    break;
                }
                let parsed = line
                    .strip_suffix(b"\n")
                    .and_then(|l| serde_json::from_slice::<StoredBlock>(l).ok());
                let Some(b) = parsed else {
                    // A torn last line (killed or failed mid-append) was never acknowledged:
                    // cut it off, so that the next block follows the last whole one. A bad
                    // line with more after it is not a torn append but an alteration.
                    let mut rest = Vec::new();
                    reader.read_to_end(&mut rest).map_err(io)?;
                    if !rest.is_empty() {
                        return Err(EmbeddedError::Replay {
                            path: path.clone(),
                            height: chain.ledger.height() + 1,
                            reason: "a damaged block line with blocks after it: the block file was altered".into(),
                        });
                    }
                    OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .and_then(|f| f.set_len(good_bytes).and_then(|()| f.sync_all()))
                        .map_err(io)?;
                    break;
                };
                let txs: Vec<Vec<u8>> = b.txs.into_iter().map(String::into_bytes).collect();
                chain
                    .apply(b.height, b.time, &txs)
                    .map_err(|e| EmbeddedError::Replay {
                        path: path.clone(),
                        height: b.height,
                        reason: e.to_string(),
                    })?;
                if chain.ledger.app_hash() != b.app_hash {
                    return Err(EmbeddedError::Replay { path: path.clone(), height: b.height, reason: "the replayed state differs from the stored app hash: the block file was altered".into() });
                }
                good_bytes += u64::try_from(n).unwrap_or(u64::MAX);
            }
        }
        Ok(chain)
    }

    fn apply(
        &mut self,
        height: u64,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<Vec<TxResult>, EmbeddedError> {
        let results = self.ledger.finalize_block(height, time, txs)?;
        self.cosign()?;
        Ok(results)
    }

    /// Cosigns the current checkpoint with the one member's key.
    fn cosign(&mut self) -> Result<(), EmbeddedError> {
        let checkpoint = self.ledger.checkpoint();
        let cosignature = checkpoint
            .cosign(&self.member, &self.key)
            .map_err(|e| EmbeddedError::Cosign(e.to_string()))?;
        self.checkpoints.push(CosignedCheckpoint {
            checkpoint,
            cosignatures: vec![cosignature],
        });
        Ok(())
    }

    /// Executes and durably stores the next block with `txs`.
    pub fn commit_block(
        &mut self,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<Vec<TxResult>, EmbeddedError> {
        let height = self.ledger.height() + 1;
        // Execute in place (the state machine refuses a block before changing anything, and
        // never fails midway), then store; a block that is not stored is undone below.
        let results = self.ledger.finalize_block(height, time, txs)?;
        let stored = StoredBlock {
            height,
            time,
            txs: txs
                .iter()
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .collect(),
            app_hash: self.ledger.app_hash(),
        };
        if let Err(e) = self.append(&stored) {
            // Not stored, so not committed: go back to what the file holds (replaying it also
            // cuts off any part of the line that did get written).
            *self = Self::open(&self.dir, &self.genesis, &self.member, self.key.clone())?;
            return Err(e);
        }
        self.cosign()?;
        Ok(results)
    }

    /// Appends one block line and syncs it to disk.
    fn append(&self, stored: &StoredBlock) -> Result<(), EmbeddedError> {
        let mut line =
            serde_json::to_vec(stored).map_err(|e| EmbeddedError::Cosign(e.to_string()))?;
        line.push(b'\n');
        let io = |source| EmbeddedError::Io {
            path: self.path.clone(),
            source,
        };
        let mut f = private_file()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        f.write_all(&line).and_then(|()| f.sync_data()).map_err(io)
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The cosigned checkpoint after `height` (1-based).
    pub fn checkpoint_at(&self, height: u64) -> Option<&CosignedCheckpoint> {
        self.checkpoints
            .get(usize::try_from(height.checked_sub(1)?).ok()?)
    }
}

/// Creates the chain's folder (and missing parents) readable by its owner only (0700).
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Options for a block file only its owner can read and write (0600).
fn private_file() -> OpenOptions {
    #[allow(unused_mut)]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o
}

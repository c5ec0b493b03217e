//! `tiezheng demo`: the whole flow on a laptop, on embedded defaults.
//!
//! At this stage of the project the demo exercises the protocol core end to end on the shared
//! corpus: it hashes every file (SM3 + SHA-256, streaming), builds the SM3 Merkle tree a batch
//! would use, signs the batch root with a fresh SM2 key, and verifies the signature and one
//! inclusion proof per file, printing each step. Enrolment, the notary, the ledger and
//! certificates join it as they are built.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use tiezheng_protocol::merkle::{MerkleHasher as _, MerkleTree, Sm3Hasher};
use tiezheng_protocol::{InclusionProof, SignatureBlock, Sm2SigningKey};
use tiezheng_sdk::files::hash_file;

/// Arguments of `tiezheng demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The media corpus to run on.
    #[arg(long, default_value = "../shared/corpus", value_name = "DIR")]
    corpus: PathBuf,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let files = collect_media(&args.corpus)?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "Tiezheng demo: {} media files under {}",
        files.len(),
        args.corpus.display()
    )?;
    writeln!(
        out,
        "\n1. Hash each file as it would be captured (SM3 + SHA-256, one streaming pass)"
    )?;
    let mut tree = MerkleTree::<Sm3Hasher>::new();
    let mut total = 0u64;
    for path in &files {
        let d = hash_file(path, |_, _| {})?;
        total += d.bytes;
        tree.push_leaf(d.sm3.as_bytes());
        let name = path.strip_prefix(&args.corpus).unwrap_or(path);
        writeln!(
            out,
            "   {:<40} {:>10} B  sm3 {}",
            name.display(),
            d.bytes,
            d.sm3
        )?;
    }
    writeln!(out, "   {} bytes hashed", total)?;

    writeln!(
        out,
        "\n2. Batch the digests into an RFC 6962 Merkle tree with SM3"
    )?;
    let root = tree.root();
    writeln!(out, "   {} leaves, root {root}", tree.len())?;

    writeln!(
        out,
        "\n3. Sign the batch header with an SM2 key (ID 1234567812345678, RFC 8785 bytes)"
    )?;
    let key = Sm2SigningKey::generate();
    let header = serde_json::json!({
        "type": "tiezheng.demo.batch.v1",
        "leaf_count": tree.len(),
        "root": root,
        "tree_hash": Sm3Hasher::ALGORITHM,
    });
    let signature = SignatureBlock::sign(&key, &header)?;
    writeln!(out, "   key id {}", key.public_key().key_id())?;
    writeln!(
        out,
        "   {}",
        serde_json::to_string(&serde_json::json!({"header": header, "signature": signature}))?
    )?;

    writeln!(
        out,
        "\n4. Verify as a court would, with nothing but the documents"
    )?;
    signature
        .verify_value_by(&header, key.public_key())
        .context("batch signature")?;
    writeln!(out, "   batch signature: valid")?;
    for index in 0..tree.len() {
        let proof = InclusionProof::from_tree(&tree, index, tree.len())?;
        let leaf = tree.leaf_hash(index).context("leaf exists")?;
        proof
            .verify(&leaf, &root)
            .with_context(|| format!("inclusion of leaf {index}"))?;
    }
    writeln!(out, "   {} inclusion proofs: valid", tree.len())?;
    writeln!(
        out,
        "\nDone. (Device enrolment, the notary, anchoring and certificates join this demo as they land.)"
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Every regular file under `dir`, sorted, skipping the corpus' own metadata.
fn collect_media(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        bail!(
            "corpus directory {} not found: run from the repository root with ../shared beside it, or pass --corpus DIR",
            dir.display()
        );
    }
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file()
                && !matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("json" | "md")
                )
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

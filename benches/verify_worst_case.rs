//! The slowest input for the one verification entry, per byte (issue #27): every published
//! example document and hundreds of variants of each, every forged bundle the forgery suite
//! wrote (`target/forgeries`), every input a fuzzing campaign kept (`fuzz/corpus/verify_document`,
//! `fuzz/corpus/pdf_attachments`), and inputs built to cost the most per byte (many registry
//! changes, many cosignatures and votes, deep nesting, long strings). Each is verified three
//! times against the example policy and its best time kept. Printed: the slowest inputs per byte
//! and in all, beside the reference of the same run (the genuine example bundle, and SM3 over
//! 1 MiB), and whether every input stays within the stated bound
//! ([`FIXED_MS`] + [`PER_BYTE_US`] µs per byte; FUZZING.md). Exits 1 if one does not.
//!
//! `cargo bench --bench verify_worst_case`

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};
use tiezheng_protocol::bundle::Policy;
use tiezheng_protocol::verify::verify_document;
use tiezheng_protocol::{DualHasher, Hash32};

/// The stated bound: a fixed part (the few signatures every document has)...
const FIXED_MS: f64 = 50.0;
/// ...plus this much per byte of input.
const PER_BYTE_US: f64 = 5.0;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(root().join("schemas/examples").join(name)).unwrap()
}

/// One leaf changed or one member dropped, for every `step`-th member of `v`.
fn variants(v: &Value, out: &mut Vec<(String, Vec<u8>)>, name: &str) {
    fn paths(v: &Value, at: &mut Vec<String>, all: &mut Vec<Vec<String>>) {
        if let Value::Object(o) = v {
            for (k, x) in o {
                at.push(k.clone());
                all.push(at.clone());
                paths(x, at, all);
                at.pop();
            }
        }
    }
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    for (n, p) in all.iter().enumerate() {
        let mut c = v.clone();
        let mut at = &mut c;
        for k in &p[..p.len() - 1] {
            at = &mut at[k.as_str()];
        }
        let o = at.as_object_mut().unwrap();
        let last = p.last().unwrap();
        if n % 2 == 0 {
            o.remove(last);
        } else if let Some(x) = o.get_mut(last) {
            *x = match x.take() {
                Value::String(s) => Value::String(s.replace('a', "b")),
                Value::Number(x) => json!(x.as_i64().unwrap_or(0) + 1),
                other => json!([other]),
            };
        }
        out.push((
            format!("{name} variant {n} ({})", p.join(".")),
            serde_json::to_vec(&c).unwrap(),
        ));
    }
}

/// Inputs built to cost much per byte.
fn costly(out: &mut Vec<(String, Vec<u8>)>) {
    let gov: Value = serde_json::from_slice(&example("bundle-consortium-governance.json")).unwrap();
    for n in [10, 200] {
        let mut b = gov.clone();
        let one = b["governance"][0].clone();
        b["governance"] = Value::Array(vec![one; n]);
        out.push((
            format!("{n} registry changes"),
            serde_json::to_vec(&b).unwrap(),
        ));
    }
    let cons: Value = serde_json::from_slice(&example("bundle-consortium.json")).unwrap();
    let mut b = cons.clone();
    let sigs = b["checkpoint"]["cosignatures"].as_array().unwrap().clone();
    b["checkpoint"]["cosignatures"] =
        Value::Array(sigs.iter().cycle().take(2_000).cloned().collect());
    out.push(("2,000 cosignatures".into(), serde_json::to_vec(&b).unwrap()));
    let mut b = cons;
    let votes = b["cometbft"]["signed_header"]["commit"]["signatures"]
        .as_array()
        .unwrap()
        .clone();
    b["cometbft"]["signed_header"]["commit"]["signatures"] =
        Value::Array(votes.iter().cycle().take(2_000).cloned().collect());
    out.push(("2,000 commit votes".into(), serde_json::to_vec(&b).unwrap()));
    out.push((
        "nesting 100,000 deep".into(),
        "[".repeat(100_000).into_bytes(),
    ));
    let mut b: Value = serde_json::from_slice(&example("bundle.json")).unwrap();
    b["proof"]["manifest"]["case"]["description"] = json!("说".repeat(1_000_000));
    out.push(("a 3 MB string".into(), serde_json::to_vec(&b).unwrap()));
    let mut pdf = b"%PDF-1.7\n".to_vec();
    for i in 0..20_000 {
        pdf.extend_from_slice(
            format!("{i} 0 obj << /Type /EmbeddedFile /Length 0 >> stream\nendstream endobj\n")
                .as_bytes(),
        );
    }
    out.push(("a PDF of 20,000 objects".into(), pdf));
}

fn files_in(dir: &Path, out: &mut Vec<(String, Vec<u8>)>, label: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        if let Ok(bytes) = std::fs::read(e.path()) {
            out.push((
                format!("{label} {}", e.file_name().to_string_lossy()),
                bytes,
            ));
            n += 1;
        }
    }
    n
}

fn best_ms(input: &[u8], policy: &Policy) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            let _ = std::hint::black_box(verify_document(input, None, Some(policy)));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::MAX, f64::min)
}

fn main() {
    let policy: Policy = serde_json::from_slice(&example("policy.json")).unwrap();
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for doc in [
        "bundle.json",
        "certificate.json",
        "public-digest.json",
        "bundle-consortium.json",
        "bundle-consortium-governance.json",
    ] {
        let bytes = example(doc);
        variants(&serde_json::from_slice(&bytes).unwrap(), &mut inputs, doc);
        inputs.push((doc.to_owned(), bytes));
    }
    let forged = files_in(&root().join("target/forgeries"), &mut inputs, "forgery");
    let fuzzed = files_in(
        &root().join("fuzz/corpus/verify_document"),
        &mut inputs,
        "fuzz",
    ) + files_in(
        &root().join("fuzz/corpus/pdf_attachments"),
        &mut inputs,
        "fuzz-pdf",
    );
    costly(&mut inputs);

    // References of the same run.
    let genuine = best_ms(&example("bundle.json"), &policy);
    let mib = vec![0x5au8; 1 << 20];
    let t = Instant::now();
    let mut h = DualHasher::new();
    h.update(&mib);
    let _ = h.finalize();
    let sm3_mib = t.elapsed().as_secs_f64() * 1000.0;
    let _ = Hash32::sm3(b"");

    let mut timed: Vec<(f64, f64, &str, usize)> = inputs
        .iter()
        .map(|(name, bytes)| {
            let ms = best_ms(bytes, &policy);
            (
                ms * 1000.0 / bytes.len().max(1) as f64,
                ms,
                name.as_str(),
                bytes.len(),
            )
        })
        .collect();
    let over: Vec<String> = timed
        .iter()
        .filter(|(_, ms, _, len)| *ms > FIXED_MS + PER_BYTE_US * *len as f64 / 1000.0)
        .map(|(_, ms, name, len)| format!("{name}: {ms:.1} ms for {len} bytes"))
        .collect();
    println!(
        "verification worst case: {} inputs ({forged} forgeries, {fuzzed} from fuzzing corpora), each the best of 3",
        inputs.len()
    );
    println!(
        "  reference: the genuine example bundle verifies in {genuine:.2} ms; SM3+SHA-256 of 1 MiB takes {sm3_mib:.2} ms"
    );
    timed.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("  slowest per byte (µs/byte, ms, bytes):");
    for (per_byte, ms, name, len) in timed.iter().filter(|t| t.3 >= 64).take(5) {
        println!("    {per_byte:8.3}  {ms:9.2}  {len:>9}  {name}");
    }
    timed.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("  slowest in all (ms, bytes):");
    for (_, ms, name, len) in timed.iter().take(5) {
        println!("    {ms:9.2}  {len:>9}  {name}");
    }
    if over.is_empty() {
        println!("  bound {FIXED_MS} ms + {PER_BYTE_US} µs/byte: every input within it");
    } else {
        println!("  bound {FIXED_MS} ms + {PER_BYTE_US} µs/byte EXCEEDED by:");
        for o in &over {
            println!("    {o}");
        }
        std::process::exit(1);
    }
}

//! What a certificate states, derived from its bundle: every fact ([`derive_facts`]), the
//! fixed explanations of findings and the fixed statement, and the comparison of what a
//! certificate states with what its bundle gives (the verifier's `certificate.facts.*`,
//! `certificate.number` and `certificate.statement` rules).

use serde::Serialize;
use serde_json::Value;

use super::{
    AnchorFacts, Bilingual, Certificate, CertificateError, CertifiedFinding, CertifiedItem,
    ConsortiumFacts, ItemTimes, ReceiptFacts, RecordingFacts, Statement, anchor_record_sm3, bi,
    certificate_number, fail,
};
use crate::bundle::Bundle;
use crate::hash::Hash32;
use crate::manifest::{CaseRecord, DeviceInfo, EvidenceItem, SessionSummary};
use crate::time::Timestamp;

/// What a finding code means, in plain words (unknown codes get a general explanation).
pub fn explain_finding(code: &str) -> Bilingual {
    match code {
        "gps_distance" => bi(
            "文件内 GPS 与系统定位之间的距离（供参考）。",
            "Distance between the file's GPS tags and the operating system's fix (for reference).",
        ),
        "gps_mismatch" => bi(
            "文件内 GPS 与系统定位相差超出精度范围，应核实拍摄地点。",
            "The file's GPS tags and the operating system's fix disagree beyond their accuracy: check where the file was made.",
        ),
        "location_missing" => bi(
            "采集时没有任何位置信息。",
            "No location was available at capture.",
        ),
        "os_fix_missing" => bi(
            "采集时没有系统定位，仅有文件内 GPS。",
            "No operating-system fix at capture; only the file's own GPS tags.",
        ),
        "mock_location" => bi(
            "系统报告定位来自模拟位置提供者，位置不可信。",
            "The operating system flagged the fix as coming from a mock provider: the location is not reliable.",
        ),
        "stale_fix" => bi(
            "定位时间明显早于采集时间，位置可能已过时。",
            "The location fix is much older than the capture: the position may be out of date.",
        ),
        "clock_skew" => bi(
            "设备时钟与文件或卫星时间不一致，采集时间应以接收时间为准进行核实。",
            "The device clock disagrees with the file or satellite time: check the capture time against the receipt time.",
        ),
        "clock_offset" => bi(
            "设备最近一次校时记录的时钟偏差。",
            "The device clock's offset at its last trusted time synchronisation.",
        ),
        "single_collector" => bi(
            "只记录了一名采集人员；规则通常要求两名以上。",
            "Only one collector is recorded; the rules usually require two or more.",
        ),
        "witness_missing" => bi(
            "没有见证人，也没有记录原因。",
            "No witness, and no reason recorded for the absence.",
        ),
        "metadata_missing" => bi(
            "文件不含可读的拍摄元数据（时间、位置、设备）。",
            "The file carries no readable capture metadata (time, place, camera).",
        ),
        "metadata_unreadable" => bi(
            "文件元数据无法读取；文件本身仍被完整哈希。",
            "The file's metadata could not be read; the file itself is still hashed whole.",
        ),
        "fingerprint_unavailable" => bi(
            "无法为该照片计算感知指纹（格式不支持或图像损坏）。",
            "No perceptual fingerprint could be computed for this photo (unsupported format or damaged image).",
        ),
        "unknown_format" => bi(
            "无法识别文件格式；文件仍被完整哈希。",
            "The file format is not recognised; the file is still hashed whole.",
        ),
        "recording_truncated" => bi(
            "录制被中断，仅证明最后一个已封闭片段之前的内容。",
            "The recording was cut off: only the content up to the last closed segment is proven.",
        ),
        "recording_interrupted" => bi(
            "录制被中断，但已录内容全部得到证明。",
            "The recording was interrupted, but everything recorded is proven.",
        ),
        _ => bi(
            "设备在采集时记录的一致性检查结果，详见说明。",
            "A consistency check the device recorded at capture; see the details.",
        ),
    }
}

/// The fixed statement of what a certificate proves and what it does not.
pub fn statement() -> Statement {
    Statement {
        proves: vec![
            bi(
                "所列文件自出证方接收时起未被改动：任何人可重新计算其 SM3 与 SHA-256 摘要并与本证书比对。",
                "The files listed have not changed since the issuer received them: anyone can recompute their SM3 and SHA-256 digests and compare.",
            ),
            bi(
                "这些文件正是采集设备在采集时以其登记的 SM2 密钥签名的文件，并属于该设备按序号连续的记录链。",
                "They are the files the capturing device signed at capture with its enrolled SM2 key, in the device's numbered chain of records.",
            ),
            bi(
                "证据最迟在接收时间已经存在，并在锚定时间被记入联盟账本，账本状态由所列成员以 SM2 共同签名。",
                "The evidence existed no later than its receipt time and was recorded on the consortium ledger at the anchoring time, in a state the listed members cosigned with SM2.",
            ),
        ],
        does_not_prove: vec![
            bi(
                "不证明所记录内容的真实性，也不证明现场没有被摆布或伪装。",
                "It does not prove that what was recorded is true, nor that the scene was not staged.",
            ),
            bi(
                "设备报告的采集时间与位置是设备的陈述，其可信程度以所列来源与精度为限；能够证明的最早时间是接收时间。",
                "The capture time and place are the device's statements, as good as the sources and accuracies listed; the earliest proven time is the receipt time.",
            ),
            bi(
                "不证明采集之前发生的任何事情，也不证明持有设备者以外的人的身份。",
                "It proves nothing about events before capture, nor anyone's identity beyond who held the enrolled device.",
            ),
        ],
    }
}

/// Everything a certificate states that is derived from its bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct DerivedFacts {
    /// The number.
    pub number: String,
    /// SM3 of the proof.
    pub proof_sm3: Hash32,
    /// The items.
    pub items: Vec<CertifiedItem>,
    /// The session summary, if any.
    pub session: Option<SessionSummary>,
    /// The device.
    pub device: DeviceInfo,
    /// The case.
    pub case: CaseRecord,
    /// The forensic procedure.
    pub procedure: Option<super::ProcedureFacts>,
    /// The receipt.
    pub receipt: ReceiptFacts,
    /// The anchor.
    pub anchor: AnchorFacts,
    /// The consortium.
    pub consortium: ConsortiumFacts,
    /// The statement.
    pub statement: Statement,
}

fn certified_item(
    index: usize,
    item: &EvidenceItem,
    received: Timestamp,
    anchored: Timestamp,
) -> CertifiedItem {
    let device_time = item.times.device_time;
    CertifiedItem {
        index: u64::try_from(index).unwrap_or(u64::MAX),
        file_name: item.file_name.clone(),
        kind: item.kind,
        origin: item.origin,
        mime: item.mime.clone(),
        bytes: item.bytes,
        hashes: item.hashes.clone(),
        times: ItemTimes {
            device_time,
            gnss_time: item.times.gnss_time,
            file_time: item.metadata.captured_at.clone(),
            last_time_sync: item.times.last_time_sync.clone(),
            capture_to_receipt_ms: received.unix_ms().saturating_sub(device_time.unix_ms()),
            capture_to_anchor_ms: anchored.unix_ms().saturating_sub(device_time.unix_ms()),
        },
        location: item.location.as_ref().and_then(|l| l.os_fix.clone()),
        file_gps: item.metadata.gps.clone(),
        fingerprint: item.fingerprint.clone(),
        recording: item.recording.as_ref().map(|r| RecordingFacts {
            segments: u64::try_from(r.segments.len()).unwrap_or(u64::MAX),
            interrupted: r.interrupted,
            truncated: r.truncated,
        }),
        findings: item
            .findings
            .iter()
            .map(|f| CertifiedFinding {
                code: f.code.clone(),
                detail: f.detail.clone(),
                explanation: explain_finding(&f.code),
            })
            .collect(),
    }
}

/// Derives every fact a certificate states from `bundle` (which should have been verified).
pub fn derive_facts(bundle: &Bundle) -> Result<DerivedFacts, CertificateError> {
    let manifest = &bundle.proof.manifest;
    let receipt = &bundle.receipt.receipt;
    let record = &bundle.anchor.record;
    let cp = &bundle.checkpoint.checkpoint;
    let items = manifest
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| certified_item(i, item, receipt.received_at, record.time))
        .collect();
    let header = &bundle.batch.header.header;
    let batch_header_sm3 = header
        .sm3()
        .map_err(|e| fail("certificate.facts.anchor", e.to_string()))?;
    let (commit_height, commit_block_hash) = match &bundle.cometbft {
        Some(layer) => {
            let sh = &layer.signed_header;
            let height = sh
                .pointer("/header/height")
                .and_then(Value::as_str)
                .and_then(|h| h.parse::<u64>().ok());
            let hash = sh
                .pointer("/commit/block_id/hash")
                .and_then(Value::as_str)
                .map(str::to_owned);
            (height, hash)
        }
        None => (None, None),
    };
    let cosigners: Vec<String> = bundle
        .checkpoint
        .cosignatures
        .iter()
        .map(|c| c.member.clone())
        .collect();
    let members = bundle.policy.members.clone();
    let signed_power = members
        .iter()
        .filter(|m| cosigners.contains(&m.id))
        .map(|m| m.power)
        .fold(0u64, u64::saturating_add);
    let total_power = members
        .iter()
        .map(|m| m.power)
        .fold(0u64, u64::saturating_add);
    Ok(DerivedFacts {
        number: certificate_number(bundle)?,
        proof_sm3: bundle.batch.leaf.proof_sm3,
        items,
        session: manifest.session_summary.clone(),
        device: manifest.device.clone(),
        case: manifest.case.clone(),
        procedure: super::procedure_facts(bundle),
        receipt: ReceiptFacts {
            received_at: receipt.received_at,
            device_seq: receipt.device_seq,
            chain_gap: receipt.chain_gap,
            manifest_sm3: receipt.manifest_sm3,
            notary_key_id: receipt.notary_key_id,
        },
        anchor: AnchorFacts {
            mode: bundle.mode.clone(),
            chain_id: cp.chain_id.clone(),
            height: record.height,
            block_time: record.time,
            anchor_record_sm3: anchor_record_sm3(bundle)?,
            batch_seq: header.batch_seq,
            batch_header_sm3,
            batch_root: header.root,
            batch_size: header.leaf_count,
            leaf_index: bundle.batch.inclusion.leaf_index,
            checkpoint_height: cp.height,
            checkpoint_time: cp.time,
            app_hash: cp.app_hash(),
            commit_height,
            commit_block_hash,
        },
        consortium: ConsortiumFacts {
            members,
            cosigners,
            signed_power,
            total_power,
        },
        statement: statement(),
    })
}

/// The rule a top-level member of a certificate falls under.
fn top_rule(name: &str) -> &'static str {
    match name {
        "number" => "certificate.number",
        "proof_sm3" | "session" => "certificate.facts.evidence",
        "device" => "certificate.facts.device",
        "case" => "certificate.facts.case",
        "procedure" => "certificate.facts.procedure",
        "receipt" => "certificate.facts.receipt",
        "anchor" => "certificate.facts.anchor",
        "consortium" => "certificate.facts.consortium",
        "statement" => "certificate.statement",
        _ => "certificate.facts.evidence",
    }
}

/// The rule a member of an item falls under.
fn item_rule(name: &str) -> &'static str {
    match name {
        "times" => "certificate.facts.capture_time",
        "location" | "file_gps" => "certificate.facts.location",
        "findings" => "certificate.facts.findings",
        _ => "certificate.facts.evidence",
    }
}

/// The first mismatch of each fact rule, in the order met: every stated fact compared with
/// what `f` (derived from the embedded bundle) gives.
pub(crate) fn fact_mismatches(cert: &Certificate, f: &DerivedFacts) -> Vec<CertificateError> {
    let mut found: Vec<CertificateError> = Vec::new();
    let mut add = |e: CertificateError| {
        if !found.iter().any(|x| x.rule() == e.rule()) {
            found.push(e);
        }
    };
    let stated: [(&str, Value, Value); 10] = [
        ("number", json(&cert.number), json(&f.number)),
        ("proof_sm3", json(&cert.proof_sm3), json(&f.proof_sm3)),
        ("session", json(&cert.session), json(&f.session)),
        ("device", json(&cert.device), json(&f.device)),
        ("case", json(&cert.case), json(&f.case)),
        ("procedure", json(&cert.procedure), json(&f.procedure)),
        ("receipt", json(&cert.receipt), json(&f.receipt)),
        ("anchor", json(&cert.anchor), json(&f.anchor)),
        ("consortium", json(&cert.consortium), json(&f.consortium)),
        ("statement", json(&cert.statement), json(&f.statement)),
    ];
    if cert.items.len() == f.items.len() {
        for (i, (have, want)) in cert.items.iter().zip(&f.items).enumerate() {
            let (have, want) = (json(have), json(want));
            if let (Value::Object(h), Value::Object(w)) = (&have, &want) {
                for (name, wv) in w {
                    let hv = h.get(name).unwrap_or(&Value::Null);
                    if let Some((path, a, b)) =
                        first_difference(hv, wv, &format!("/items/{i}/{name}"))
                    {
                        add(mismatch(item_rule(name), &path, &a, &b));
                    }
                }
            }
        }
    } else {
        add(fail(
            "certificate.facts.evidence",
            format!(
                "the certificate lists {} items, the bundle's manifest {}",
                cert.items.len(),
                f.items.len()
            ),
        ));
    }
    for (name, have, want) in &stated {
        if let Some((path, a, b)) = first_difference(have, want, &format!("/{name}")) {
            add(mismatch(top_rule(name), &path, &a, &b));
        }
    }
    found
}

fn mismatch(rule: &'static str, path: &str, stated: &Value, derived: &Value) -> CertificateError {
    fail(
        rule,
        format!(
            "certificate{path} states {stated} but the embedded bundle gives {derived}: the certificate does not describe its bundle"
        ),
    )
}

/// The first place where `a` and `b` differ: (JSON pointer, value in a, value in b), an
/// absent optional fact counting as `null`.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<(String, Value, Value)> {
    let d = crate::json_diff::first_difference(a, b, crate::json_diff::Missing::IsNull)?;
    let at = if d.pointer == "/" {
        String::new()
    } else {
        d.pointer
    };
    Some((format!("{path}{at}"), d.left, d.right))
}

/// A fact as JSON, for comparison.
fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

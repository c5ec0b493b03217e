//! The details pages: proof and receipt, batch and anchor, the consortium's cosignatures, the
//! custody log, further evidence files, the session summary, the findings explained, and how
//! to verify.

use tiezheng_protocol::certificate::Certificate;
use tiezheng_protocol::profile::Severity;

use super::Block;
use super::flow::Layout;
use super::item::item_facts;
use super::wording::{t, yes_no};

/// Lays out the details of `c`, from a new page unless the first page's statement already ran
/// onto one.
pub(super) fn details(l: &mut Layout<'_>, c: &Certificate) {
    if l.pages == 1 {
        l.new_page();
    } else {
        l.y += 16.0;
    }
    l.title("详细信息", "Details");
    l.heading("存证与回执", "Proof and receipt");
    l.field("存证 SM3", "Proof SM3", &[c.proof_sm3.to_hex()]);
    l.field(
        "清单 SM3 / 设备序号",
        "Manifest SM3 / device sequence",
        &[
            c.receipt.manifest_sm3.to_hex(),
            format!(
                "序号 device_seq {} · 此前记录缺失 earlier records missing: {}",
                c.receipt.device_seq,
                yes_no(c.receipt.chain_gap)
            ),
        ],
    );
    if let Some(p) = &c.procedure {
        l.heading("取证依据与要求", "Forensic procedure and its requirements");
        let mut basis: Vec<String> = p
            .legal_basis
            .iter()
            .map(|b| match &b.document_number {
                Some(n) => format!("{}（{n}）", b.title_zh),
                None => b.title_zh.clone(),
            })
            .collect();
        basis.push(format!("规范 SM3 profile SM3 {}", p.profile.sm3));
        l.field(&p.title_zh, &p.title_en, &basis);
        for o in &p.outcomes {
            let severity = match o.severity {
                Severity::Must => "必须 must",
                Severity::Should => "应当 should",
            };
            let mut lines = vec![format!(
                "{} · {severity} · {}",
                o.rule,
                if o.met {
                    "已满足 met"
                } else {
                    "未满足 not met"
                }
            )];
            if let Some(r) = &o.reason {
                lines.push(format!("理由 reason: {r}"));
            }
            l.field(&o.title_zh, &o.title_en, &lines);
        }
    }
    l.heading("批次与锚定", "Batch and anchor");
    let a = &c.anchor;
    l.field(
        "批次",
        "Batch",
        &[
            format!(
                "序号 batch {} · 叶 leaf {} / {}",
                a.batch_seq, a.leaf_index, a.batch_size
            ),
            format!("根 root {}", a.batch_root),
            format!("批次头 SM3 header {}", a.batch_header_sm3),
        ],
    );
    let mut anchor = vec![
        format!("模式 mode {} · 链 chain {}", a.mode, a.chain_id),
        format!("区块 block {} · {}", a.height, t(&a.block_time)),
        format!("锚定记录 SM3 anchor record {}", a.anchor_record_sm3),
        format!(
            "检查点 checkpoint {} · {}",
            a.checkpoint_height,
            t(&a.checkpoint_time)
        ),
        format!("应用哈希 app hash {}", a.app_hash),
    ];
    if let (Some(h), Some(hash)) = (a.commit_height, &a.commit_block_hash) {
        anchor.push(format!("CometBFT 区块 block {h}: {hash}"));
    }
    l.field("账本", "Ledger", &anchor);
    let cs = &c.consortium;
    let mut members: Vec<String> = cs
        .members
        .iter()
        .map(|mb| {
            format!(
                "{} · 权重 power {} · {}",
                mb.id,
                mb.power,
                if cs.cosigners.contains(&mb.id) {
                    "已 SM2 签名 cosigned"
                } else {
                    "未签名 not signed"
                }
            )
        })
        .collect();
    members.push(format!(
        "签名权重 signed power {} / {}（须超过三分之二 more than two thirds needed）",
        cs.signed_power, cs.total_power
    ));
    l.field("联盟成员", "Consortium members", &members);
    l.heading("保管记录", "Custody");
    l.field(
        "签发时的保管记录（出证方陈述）",
        "Custody log at issue (the issuer's statement)",
        &[
            format!("{} 条事件 events", c.custody.events),
            format!("最后事件哈希 last event hash {}", c.custody.last_event_hash),
        ],
    );
    if let Some(a) = &c.bundle.custody {
        let kinds: Vec<&str> = a.events.iter().map(|e| e.event.as_str()).collect();
        l.field(
            "已锚定的保管事件（可离线核验）",
            "Custody events anchored (verifiable offline)",
            &[
                format!(
                    "前 {} 条事件已由批次 {} 提交，锚定于区块高度 {} · the first {} events, committed by batch {}, anchored at height {}",
                    a.events.len(),
                    a.anchor.header.header.batch_seq,
                    a.anchor.record.height,
                    a.events.len(),
                    a.anchor.header.header.batch_seq,
                    a.anchor.record.height
                ),
                kinds.join(" → "),
            ],
        );
    }
    for item in c.items.iter().skip(1) {
        l.heading("其他证据文件", "Further evidence file");
        item_facts(l, item);
    }
    if let Some(s) = &c.session {
        l.field(
            "执法过程汇总",
            "Session summary",
            &[format!(
                "{} — {} · {} 条记录 records",
                t(&s.opened_at),
                t(&s.closed_at),
                s.manifests.len()
            )],
        );
        if let Some(r) = &s.record {
            super::record::record(l, r);
        }
    }
    if c.items.iter().any(|i| !i.findings.is_empty()) {
        l.heading("检查发现说明", "Findings explained");
        for item in &c.items {
            for f in &item.findings {
                l.field(&f.code, &item.file_name, std::slice::from_ref(&f.detail));
                l.bilingual(&f.explanation, 8.0);
            }
        }
    }
    l.heading("核验方法", "How to verify");
    let steps = [
        format!(
            "1. 本 PDF 附有签名的证书文件 certificate-{}.json，其 SM3 印于第 1 页。The PDF carries the signed certificate file; its SM3 is printed on page 1.",
            c.number
        ),
        "2. 离线核验 Offline: tiezheng verify 本证书.pdf --media 原始文件 --policy 法院策略.json".to_owned(),
        "3. 或以任何 SM2/SM3 实现按 VERIFYING.md 核验附件。Or check the attachment with any SM2/SM3 implementation, following VERIFYING.md.".to_owned(),
        format!("4. 在线 Online: {}（扫描第 1 页二维码 scan the QR code on page 1）", c.issuer.verify_url),
        format!("出证方公钥 Issuer's public key (SM2, ID 1234567812345678): {}", c.issuer.public_key),
        "本证书所示时间均为北京时间（UTC+8）；附件中的签名证书保留每个时间的精确值。Times shown are Beijing time (UTC+8); the signed certificate attached keeps each exact value.".to_owned(),
    ];
    for s in &steps {
        let b = l.block(Block::Paragraph);
        l.y += 3.0;
        l.paragraph(s, 8.5, 0, 0.0, b);
    }
}

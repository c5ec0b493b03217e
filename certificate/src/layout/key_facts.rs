//! The first page: the title, the issuer, the certificate number and the SM3 of the attached
//! certificate, the case, the first evidence file, when the notary received and the ledger
//! anchored it, the device and the people, the findings, and what the certificate proves and
//! does not prove.

use tiezheng_protocol::certificate::Certificate;

use super::flow::Layout;
use super::item::item_facts;
use super::wording::{delay, party, t};
use super::{Block, LEFT};

/// Lays out the key facts of `c`; `attachment_sm3` is the SM3 of the attached certificate file.
pub(super) fn key_facts(l: &mut Layout<'_>, c: &Certificate, attachment_sm3: &str) {
    let first = c.items.first();
    let (title_zh, title_en) = c.issuer.operator_type.title();
    l.title(title_zh, title_en);
    let b = l.block(Block::Paragraph);
    l.y += 14.0;
    let (label_zh, label_en) = c.issuer.operator_type.issuer_label();
    let issuer = format!("出证方（{label_zh}）Issuer ({label_en}): {}", c.issuer.name);
    l.text_at(LEFT, l.y, 9.0, 40, &issuer, Some(b));
    l.field(
        "出证方资质（出证方陈述）",
        "Issuer's standing (the issuer's statement)",
        &[
            format!("法定名称 Legal name: {}", c.issuer.legal_name),
            format!(
                "统一社会信用代码 Unified social credit code: {}",
                c.issuer.credit_code
            ),
            format!(
                "区块链信息服务备案编号 Filing number: {}",
                c.issuer.filing_number.as_deref().unwrap_or("无 none")
            ),
            format!("联系方式 Contact: {}", c.issuer.contact),
        ],
    );
    l.field_sized(
        "证书编号",
        "Certificate number",
        std::slice::from_ref(&c.number),
        13.0,
    );
    l.field(
        "所附证书文件的 SM3",
        "SM3 of the attached signed certificate file",
        &[attachment_sm3.to_owned()],
    );
    l.field("签发时间", "Issued at", &[t(&c.issued_at)]);
    let mut case = vec![c.case.reference.clone()];
    if let Some(cause) = &c.case.cause {
        case.push(format!("案由 cause: {cause}"));
    }
    l.field("案件编号 / 案由", "Case reference / cause", &case);
    if let Some(item) = first {
        item_facts(l, item);
        l.field(
            "接收时间（出证方时钟，已证明）",
            "Received by the issuer (its clock, proven)",
            &[format!(
                "{} · 距采集 after capture {}",
                t(&c.receipt.received_at),
                delay(item.times.capture_to_receipt_ms)
            )],
        );
        l.field(
            "锚定时间（账本区块时间）",
            "Anchored on the ledger (block time)",
            &[
                format!(
                    "{} · 距采集 after capture {}",
                    t(&c.anchor.block_time),
                    delay(item.times.capture_to_anchor_ms)
                ),
                format!(
                    "区块高度 height {} · 链 chain {}",
                    c.anchor.height, c.anchor.chain_id
                ),
            ],
        );
    } else {
        l.field(
            "接收时间（出证方时钟，已证明）",
            "Received by the issuer (its clock, proven)",
            &[t(&c.receipt.received_at)],
        );
    }
    let d = &c.device;
    l.field(
        "采集设备",
        "Capturing device",
        &[
            format!("{} · {} · SDK {}", d.model, d.os, d.sdk_version),
            format!(
                "登记号 enrolment {} · 设备密钥 device key {}",
                d.enrolment_id.as_deref().unwrap_or("—"),
                d.key_id
            ),
        ],
    );
    l.field(
        "采集人员 / 持有人 / 见证人",
        "Collectors / holder / witness",
        &[
            format!("采集人员 collectors: {}", c.case.collectors.join("、")),
            format!("持有人 holder: {}", party(c.case.holder.as_ref())),
            format!("见证人 witness: {}", party(c.case.witness.as_ref())),
            signed_by(c),
        ],
    );
    if let Some(p) = &c.procedure {
        let unmet: Vec<&str> = p
            .outcomes
            .iter()
            .filter(|o| !o.met)
            .map(|o| o.rule.as_str())
            .collect();
        l.field(
            "取证依据",
            "Forensic procedure followed",
            &[
                format!("{} · {}", p.title_zh, p.title_en),
                format!(
                    "规范 profile {} v{} · 要求 requirements {} · 未满足 not met: {}",
                    p.profile.id,
                    p.profile.version,
                    p.outcomes.len(),
                    if unmet.is_empty() {
                        "无 none".to_owned()
                    } else {
                        format!("{}（详见后页 see details）", unmet.join(", "))
                    }
                ),
            ],
        );
    }
    let codes: Vec<&str> = c
        .items
        .iter()
        .flat_map(|i| i.findings.iter().map(|f| f.code.as_str()))
        .collect();
    l.field(
        "检查发现（详见后页）",
        "Findings (explained in the details)",
        &[if codes.is_empty() {
            "无 none".to_owned()
        } else {
            codes.join(", ")
        }],
    );
    l.heading("本证书证明", "What this certificate proves");
    for s in &c.statement.proves {
        l.bilingual(s, 0.0);
    }
    l.heading("本证书不证明", "What it does not prove");
    for s in &c.statement.does_not_prove {
        l.bilingual(s, 0.0);
    }
}

/// Who signed the manifest besides the device: each officer's own key, as the notary bound it.
fn signed_by(c: &Certificate) -> String {
    let officers: Vec<String> = c
        .bundle
        .officers
        .iter()
        .map(|o| {
            let who = &o.certificate.officer;
            format!(
                "{} ({} · 执法证号 {})",
                who.name, who.officer_id, who.badge_number
            )
        })
        .collect();
    if officers.is_empty() {
        "本人签名 signed by: 仅设备 the device only".to_owned()
    } else {
        format!(
            "本人签名 signed with their own keys: {}",
            officers.join("、")
        )
    }
}

//! The appraisal opinion (司法鉴定意见书) as PDF/A-3u: the commission, the institution, the
//! appraisers and the reviewer, each question with its finding, the material by SM3, and the
//! whole signed procedure step by step, with the opinion package itself
//! (`tiezheng.appraisal-opinion.v1`, its evidence bundles inside) attached, so that the PDF
//! alone is verifiable. The page is a rendering; only the attachment carries authority.

use tiezheng_protocol::appraisal::{Act, OpinionPackage};
use tiezheng_protocol::{Hash32, canonical};

use super::flow::Layout;
use super::pdf::{Meta, write};
use super::side::qr_code;
use super::wording::t;
use super::{Drawn, footers};
use crate::font;
use crate::{RenderError, Rendered};

/// The name and licence number the credentials give `id`, or the id alone.
fn person(pkg: &OpinionPackage, id: &str) -> String {
    pkg.credentials
        .iter()
        .find(|c| c.credential.appraiser_id == id)
        .map_or_else(
            || id.to_owned(),
            |c| {
                format!(
                    "{} ({id} · 执业证号 licence {})",
                    c.credential.name, c.credential.licence_number
                )
            },
        )
}

fn act_zh(a: &Act) -> &'static str {
    match a {
        Act::Commission { .. } => "委托 commission",
        Act::Acceptance { .. } => "受理 acceptance",
        Act::Assignment { .. } => "指派 assignment",
        Act::Declaration { .. } => "回避声明 declaration",
        Act::MaterialReceipt { .. } => "检材接收 material receipt",
        Act::RecordEntry { .. } => "过程记录 record entry",
        Act::Opinion { .. } => "鉴定意见 opinion",
        Act::Review { .. } => "复核 review",
        Act::Delivery { .. } => "送达 delivery",
    }
}

/// Renders the opinion package `pkg`; the QR code opens `verify_url` with the package's SM3 in
/// the fragment.
pub fn render_opinion(pkg: &OpinionPackage, verify_url: &str) -> Result<Rendered, RenderError> {
    let loaded = font::loaded().ok_or(RenderError::Font)?;
    let m = &loaded.metrics;
    let attachment =
        canonical::to_canonical_bytes(pkg).map_err(|e| RenderError::Certificate(e.to_string()))?;
    let sm3 = Hash32::sm3(&attachment);
    let Some(Act::Commission {
        case_reference,
        institution,
        items,
        questions,
        deadline,
    }) = pkg.steps.first().map(|s| &s.step.act)
    else {
        return Err(RenderError::Certificate(
            "the package does not start with a commission".into(),
        ));
    };
    let first = pkg.steps.first().map(|s| &s.step);
    let court = first.map_or("", |s| s.by.as_str());
    let assigned = pkg.steps.iter().find_map(|s| match &s.step.act {
        Act::Assignment {
            appraisers,
            reviewer,
        } => Some((appraisers.clone(), reviewer.clone())),
        _ => None,
    });
    let findings = pkg.steps.iter().rev().find_map(|s| match &s.step.act {
        Act::Opinion { findings } => Some((findings.clone(), s.step.at)),
        _ => None,
    });
    let delivered = pkg
        .steps
        .last()
        .filter(|s| matches!(s.step.act, Act::Delivery { .. }))
        .map(|s| s.step.at);

    let mut l = Layout::new(m);
    let url = format!("{verify_url}#o={sm3}");
    qr_code(
        &mut l,
        &url,
        &format!("二维码：在线核验本鉴定意见书 QR code: verify this opinion online at {url}"),
    )?;
    l.title("司法鉴定意见书", "Judicial Appraisal Opinion");
    l.field(
        "委托人 · 案号",
        "Commissioned by · case",
        &[format!("{court} · {case_reference}")],
    );
    l.field(
        "鉴定机构",
        "Appraisal institution",
        std::slice::from_ref(institution),
    );
    if let Some((appraisers, reviewer)) = &assigned {
        l.field(
            "鉴定人",
            "Appraisers",
            &appraisers
                .iter()
                .map(|a| person(pkg, a))
                .collect::<Vec<_>>(),
        );
        l.field("复核人", "Reviewer", &[person(pkg, reviewer)]);
    }
    l.field(
        "期限 · 送达",
        "Deadline · delivered",
        &[format!(
            "{} · {}",
            t(deadline),
            delivered
                .as_ref()
                .map_or_else(|| "未送达 not delivered".into(), t)
        )],
    );
    l.heading("鉴定事项与鉴定意见", "Questions and findings");
    for (i, q) in questions.iter().enumerate() {
        let finding = findings
            .as_ref()
            .and_then(|(f, _)| f.get(i))
            .cloned()
            .unwrap_or_else(|| "—".into());
        l.field(
            &format!("{}. 鉴定事项", i + 1),
            "Question",
            &[q.clone(), format!("鉴定意见 Finding: {finding}")],
        );
    }
    l.field(
        "所附签名文件",
        "Attached signed document",
        &[
            format!("tiezheng.appraisal-opinion.v1 · SM3 {sm3}"),
            "本页仅为附件的呈现；请以附件核验（tiezheng verify 或核验页面）。This page renders the attachment; verify the attachment (tiezheng verify, or the verify page).".into(),
        ],
    );
    l.new_page();
    l.heading("检材", "Material");
    for (i, it) in items.iter().enumerate() {
        l.field(
            &format!("{}. {}", i + 1, it.file_name),
            "file",
            &[
                format!("SM3 {}", it.sm3),
                format!("证明 proof SM3 {}", it.proof_sm3),
            ],
        );
    }
    l.heading(
        "鉴定过程（签名步骤）",
        "The procedure, step by step (each signed)",
    );
    for s in &pkg.steps {
        let step_sm3 = s
            .sm3()
            .map_err(|e| RenderError::Certificate(e.to_string()))?;
        l.field(
            &format!("{}. {}", s.step.seq, act_zh(&s.step.act)),
            &format!("{} · {}", s.step.by, t(&s.step.at)),
            &[format!(
                "{} 个签名 signature(s) · 步骤 SM3 step {step_sm3}",
                s.signatures.len()
            )],
        );
    }
    let hex = sm3.to_hex();
    let short = hex.get(..16).unwrap_or_default();
    footers(&mut l, &format!("司法鉴定意见书 {short}"));
    let drawn = Drawn {
        layout_pages: l.pages,
        ops: l.ops,
        blocks: l.blocks,
        missing: l.missing,
        thumbnail_bytes: 0,
        thumbnail_warning: None,
    };
    let date = delivered
        .or_else(|| findings.as_ref().map(|(_, at)| *at))
        .or(first.map(|s| s.at))
        .ok_or_else(|| RenderError::Certificate("no step".into()))?;
    let meta = Meta {
        title: format!("司法鉴定意见书 Judicial Appraisal Opinion {case_reference}"),
        description: format!(
            "Appraisal opinion for {court}, case {case_reference}, by {institution}; the signed opinion package (tiezheng.appraisal-opinion.v1, SM3 {sm3}) is attached."
        ),
        creator: "Tiezheng notary",
        author: institution.clone(),
        date,
        document_id: format!("tiezheng-appraisal-opinion-{sm3}"),
        attachment_name: format!("appraisal-opinion-{short}.json"),
        attachment_description: format!(
            "签名的鉴定意见包 Signed appraisal opinion package (tiezheng.appraisal-opinion.v1, RFC 8785 JSON; SM3 {sm3})"
        ),
    };
    let (pdf, warnings) = write(drawn, &loaded.font, m, &meta, attachment)?;
    Ok(Rendered {
        pdf,
        warnings,
        thumbnail_bytes: 0,
        attachment_sm3: sm3,
    })
}

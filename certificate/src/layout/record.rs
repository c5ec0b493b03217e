//! The collection record and its inventory (电子数据现场提取笔录 · 固定清单), on the certificate
//! of the proof that closed the session: place and process, the holder's and the witness's
//! confirmation (or the video of the whole collection), and every file with its size, SM3, SHA-256, time, place and original medium.

use tiezheng_protocol::manifest::{CollectionRecord, Confirmation};

use super::flow::Layout;
use super::wording::t;

fn confirmation(c: &Confirmation) -> String {
    match (&c.signature_image_sm3, &c.refusal) {
        (Some(sm3), _) => format!("已在屏幕上签名 signed on screen · 签名图像 SM3 {sm3}"),
        (None, Some(r)) => format!("未签名 did not sign: {r}"),
        (None, None) => "—".to_owned(),
    }
}

/// Lays out `r`.
pub(super) fn record(l: &mut Layout<'_>, r: &CollectionRecord) {
    l.heading(
        "电子数据现场提取笔录",
        "Record of the on-site collection of electronic data",
    );
    l.field("提取地点", "Place", std::slice::from_ref(&r.place));
    l.field("提取过程", "Process", std::slice::from_ref(&r.process));
    l.field(
        "持有人 / 见证人",
        "Holder / witness",
        &[
            format!("持有人 holder: {}", confirmation(&r.holder)),
            format!("见证人 witness: {}", confirmation(&r.witness)),
        ],
    );
    if let Some(p) = &r.process_recording {
        l.field(
            "全程录像",
            "Video of the whole collection",
            &[format!("{} · device_seq {}", p.file_name, p.device_seq)],
        );
    }
    l.heading("电子数据固定清单", "Inventory of the electronic data fixed");
    for (i, e) in r.inventory.iter().enumerate() {
        let o = &e.original;
        let medium = if o.seized {
            format!(
                "原始介质 original medium: {} · 已扣押 seized, 保存于 kept at {}",
                o.description,
                o.kept_at.as_deref().unwrap_or("—")
            )
        } else {
            format!(
                "原始介质 original medium: {} · 未扣押 not seized: {}",
                o.description,
                o.not_seized_reason.as_deref().unwrap_or("—")
            )
        };
        l.field(
            &format!("{}. {}", i + 1, e.file_name),
            &format!(
                "{:?} · {} bytes · device_seq {}",
                e.kind, e.bytes, e.device_seq
            ),
            &[
                format!("SM3 {}", e.sm3),
                format!("SHA-256 {}", e.sha256),
                format!(
                    "采集时间 captured {} · 地点 place {}",
                    t(&e.captured_at),
                    e.location.as_deref().unwrap_or("—")
                ),
                medium,
            ],
        );
    }
}

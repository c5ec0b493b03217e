//! How the certificate words its facts: times, delays, the kind and origin of an item, the
//! parties and yes/no, in Chinese with English beside it.

use tiezheng_protocol::Timestamp;
use tiezheng_protocol::manifest::{ItemKind, Origin, PartyRecord};

pub(super) fn t(ts: &Timestamp) -> String {
    ts.to_string()
}

pub(super) fn delay(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    let (h, m, s, milli) = (
        abs / 3_600_000,
        abs / 60_000 % 60,
        abs / 1000 % 60,
        abs % 1000,
    );
    if h > 0 {
        format!("{sign}{h} h {m} min {s} s")
    } else if m > 0 {
        format!("{sign}{m} min {s}.{:01} s", milli / 100)
    } else {
        format!("{sign}{s}.{milli:03} s")
    }
}

pub(super) fn kind(k: ItemKind) -> &'static str {
    match k {
        ItemKind::Photo => "照片 photo",
        ItemKind::Video => "视频 video",
        ItemKind::Audio => "录音 audio",
        _ => "其他 other",
    }
}

pub(super) fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Captured => "现场采集 captured at the scene",
        _ => "事后导入（非现场采集） imported later, not captured",
    }
}

pub(super) fn party(p: Option<&PartyRecord>) -> String {
    match p {
        None => "— 未记录 none recorded".to_owned(),
        Some(p) => {
            let name = p.name.as_deref().unwrap_or("—");
            match &p.note {
                Some(n) => format!("{name}（{n}）"),
                None => name.to_owned(),
            }
        }
    }
}

pub(super) fn yes_no(b: bool) -> &'static str {
    if b { "是 yes" } else { "否 no" }
}

//! How the certificate words its facts: times, delays, the kind and origin of an item, the
//! parties and yes/no, in Chinese with English beside it.

use tiezheng_protocol::Timestamp;
use tiezheng_protocol::manifest::{ItemKind, Origin, PartyRecord};

/// Minutes east of UTC of Beijing time (China Standard Time, no daylight saving).
const BEIJING_OFFSET_MINUTES: i16 = 8 * 60;

/// A time as a Chinese court reads it: Beijing time, the offset stated. The exact value, in
/// the offset the signer used, stays in the signed JSON attached to the PDF.
pub(super) fn t(ts: &Timestamp) -> String {
    let (y, mo, d, h, mi, s, ms) =
        Timestamp::from_unix_ms(ts.unix_ms(), BEIJING_OFFSET_MINUTES).local_fields();
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03} 北京时间 (UTC+8)")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_beijing_time_with_the_offset_stated() {
        let utc = Timestamp::parse("2026-12-07T16:30:05.250Z")
            .unwrap_or_else(|_| Timestamp::from_unix_ms(0, 0));
        assert_eq!(t(&utc), "2026-12-08 00:30:05.250 北京时间 (UTC+8)");
        let device = Timestamp::from_unix_ms(utc.unix_ms(), -300);
        assert_eq!(
            t(&device),
            t(&utc),
            "the same instant, whatever offset it was signed in"
        );
    }
}

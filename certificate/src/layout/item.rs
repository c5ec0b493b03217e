//! The facts of one evidence file: name, kind and origin, digests, capture time and place as
//! the device states them, and its segmented recording.

use tiezheng_protocol::HashAlgorithm;
use tiezheng_protocol::certificate::CertifiedItem;

use super::flow::Layout;
use super::wording::{kind, origin, t, yes_no};

/// Lays out the facts of `item` as labelled fields.
pub(super) fn item_facts(l: &mut Layout<'_>, item: &CertifiedItem) {
    l.field(
        "证据文件",
        "Evidence file",
        &[
            item.file_name.clone(),
            format!(
                "{} · {} · {} 字节 bytes · {}",
                kind(item.kind),
                item.mime,
                item.bytes,
                origin(item.origin)
            ),
        ],
    );
    for h in &item.hashes {
        let (zh, en) = match h.algorithm {
            HashAlgorithm::Sm3 => ("SM3 摘要", "SM3 digest"),
            _ => ("SHA-256 摘要", "SHA-256 digest"),
        };
        l.field(&format!("{zh}（OID {}）", h.oid), en, &[h.value.to_hex()]);
    }
    let times = &item.times;
    let mut lines = vec![format!(
        "{}（设备时钟 device clock）",
        t(&times.device_time)
    )];
    if let Some(g) = &times.gnss_time {
        lines.push(format!("卫星时间 GNSS: {}", t(g)));
    }
    if let Some(f) = &times.file_time {
        lines.push(format!("文件内时间 in the file: {f}"));
    }
    if let Some(s) = &times.last_time_sync {
        lines.push(format!(
            "最近校时 last time sync: {} · {} · 偏差 offset {} ms",
            t(&s.at),
            s.source,
            s.offset_ms
        ));
    }
    l.field(
        "采集时间（设备陈述）",
        "Capture time (as the device states)",
        &lines,
    );
    let mut place = Vec::new();
    match &item.location {
        Some(f) => {
            let mut s = format!("{}, {}（WGS-84）", f.latitude, f.longitude);
            if let Some(a) = &f.horizontal_accuracy {
                s.push_str(&format!(" ±{a} m"));
            }
            if let Some(alt) = &f.altitude {
                s.push_str(&format!(" · 海拔 altitude {alt} m"));
            }
            place.push(s);
            let provider = serde_json::to_value(f.provider)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let mut s = format!("定位来源 provider: {provider}");
            if let Some(ft) = &f.fix_time {
                s.push_str(&format!(" · 定位时间 fix {}", t(ft)));
            }
            if let Some(n) = f.satellites {
                s.push_str(&format!(" · 卫星 satellites {n}"));
            }
            s.push_str(&format!(" · 模拟位置 mock: {}", yes_no(f.mock)));
            place.push(s);
        }
        None => place.push("— 无系统定位 no operating-system fix".to_owned()),
    }
    if let Some(g) = &item.file_gps {
        place.push(format!(
            "文件内 GPS in the file: {}, {}",
            g.latitude, g.longitude
        ));
    }
    l.field(
        "采集位置（设备陈述）",
        "Capture location (as the device states)",
        &place,
    );
    if let Some(r) = &item.recording {
        l.field(
            "分段录制",
            "Segmented recording",
            &[format!(
                "{} 段 segments · 中断 interrupted: {} · 截断 truncated: {}",
                r.segments,
                yes_no(r.interrupted),
                yes_no(r.truncated)
            )],
        );
    }
}

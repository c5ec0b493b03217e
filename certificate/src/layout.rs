//! Laying out the certificate (a list of drawing operations per page, each belonging to a
//! block of the tag tree) and writing it with krilla as tagged PDF/A-3u with the signed
//! certificate attached.

use std::num::NonZeroU16;

use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, SpanTag, Tag, TagGroup, TagKind, TagTree,
};
use krilla::{Document, SerializeSettings};
use tiezheng_protocol::certificate::{Bilingual, CertifiedItem, SignedCertificate};
use tiezheng_protocol::manifest::{ItemKind, Origin, PartyRecord};
use tiezheng_protocol::{HashAlgorithm, Timestamp};

use crate::font::{self, Metrics};
use crate::thumbnail::thumbnail_jpeg;
use crate::{RenderError, Rendered};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 42.0;
const RIGHT: f32 = PAGE_W - 42.0;
const TOP: f32 = 52.0;
const BOTTOM: f32 = PAGE_H - 56.0;
/// The first page's text column leaves room for the QR code and the thumbnail.
const FIRST_COLUMN: f32 = 392.0;
const SIDE_X: f32 = 452.0;
const SIDE_W: f32 = RIGHT - SIDE_X;

#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        gray: u8,
        text: String,
    },
    Rect {
        rect: (f32, f32, f32, f32),
        gray: u8,
    },
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        jpeg: Vec<u8>,
    },
    Qr {
        x: f32,
        y: f32,
        module: f32,
        width: usize,
        dark: Vec<bool>,
    },
}

#[derive(Debug, Clone)]
struct Placed {
    page: usize,
    op: Op,
    /// The tag-tree block it belongs to; `None` for artifacts (rules, footers).
    block: Option<usize>,
}

#[derive(Debug, Clone)]
enum Block {
    Heading(u16, String),
    Paragraph,
    Figure(String),
}

struct Layout<'a> {
    m: &'a Metrics,
    pages: usize,
    y: f32,
    ops: Vec<Placed>,
    blocks: Vec<Block>,
    missing: Vec<char>,
}

impl<'a> Layout<'a> {
    fn new(m: &'a Metrics) -> Self {
        Self {
            m,
            pages: 1,
            y: TOP,
            ops: Vec::new(),
            blocks: Vec::new(),
            missing: Vec::new(),
        }
    }

    fn page(&self) -> usize {
        self.pages - 1
    }

    fn width(&self) -> f32 {
        if self.pages == 1 {
            FIRST_COLUMN - LEFT
        } else {
            RIGHT - LEFT
        }
    }

    fn new_page(&mut self) {
        self.pages += 1;
        self.y = TOP;
    }

    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }

    fn block(&mut self, b: Block) -> usize {
        self.blocks.push(b);
        self.blocks.len() - 1
    }

    fn push(&mut self, op: Op, block: Option<usize>) {
        self.ops.push(Placed {
            page: self.page(),
            op,
            block,
        });
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, gray: u8, text: &str, block: Option<usize>) {
        let (shown, missing) = font::shown(self.m, text);
        for c in missing {
            if !self.missing.contains(&c) {
                self.missing.push(c);
            }
        }
        if shown.trim().is_empty() {
            return;
        }
        self.push(
            Op::Text {
                x,
                y,
                size,
                gray,
                text: shown,
            },
            block,
        );
    }

    /// Lines of `text` no wider than `width` at `size`: breaks after spaces in Latin text,
    /// anywhere between CJK characters.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut w = 0.0;
            let mut last_space: Option<usize> = None;
            for c in para.chars() {
                let cw = self.m.width(c.encode_utf8(&mut [0; 4]), size);
                if w + cw > width && !line.is_empty() {
                    match last_space {
                        Some(at) if at > 0 && !c.is_whitespace() => {
                            let rest = line.split_off(at);
                            lines.push(line.trim_end().to_owned());
                            line = rest.trim_start().to_owned();
                        }
                        _ => lines.push(std::mem::take(&mut line).trim_end().to_owned()),
                    }
                    w = self.m.width(&line, size);
                    last_space = None;
                    if c.is_whitespace() {
                        continue;
                    }
                }
                line.push(c);
                w += cw;
                if c == ' ' || !c.is_ascii() {
                    last_space = Some(line.len());
                }
            }
            lines.push(line);
        }
        lines
    }

    fn paragraph(&mut self, text: &str, size: f32, gray: u8, indent: f32, block: usize) {
        let lead = size * 1.38;
        for line in self.wrap(text, size, self.width() - indent) {
            self.ensure(lead);
            self.y += lead;
            self.text_at(LEFT + indent, self.y, size, gray, &line, Some(block));
        }
    }

    fn title(&mut self, zh: &str, en: &str) {
        let b = self.block(Block::Heading(1, format!("{zh} {en}")));
        self.y += 22.0;
        self.text_at(LEFT, self.y, 22.0, 0, zh, Some(b));
        let x = LEFT + self.m.width(zh, 22.0) + 10.0;
        self.text_at(x, self.y, 13.0, 60, en, Some(b));
        self.y += 6.0;
    }

    fn heading(&mut self, zh: &str, en: &str) {
        self.ensure(40.0);
        let b = self.block(Block::Heading(2, format!("{zh} {en}")));
        self.y += 20.0;
        let text = format!("{zh}  {en}");
        self.text_at(LEFT, self.y, 11.5, 0, &text, Some(b));
        self.y += 4.0;
        let w = self.width();
        self.push(
            Op::Rect {
                rect: (LEFT, self.y, w, 0.6),
                gray: 150,
            },
            None,
        );
    }

    /// A labelled fact: the label in Chinese and English, then the values.
    fn field(&mut self, zh: &str, en: &str, values: &[String]) {
        self.field_sized(zh, en, values, 9.0);
    }

    fn field_sized(&mut self, zh: &str, en: &str, values: &[String], size: f32) {
        self.ensure(11.0 + size * 1.38);
        let b = self.block(Block::Paragraph);
        self.y += 11.0;
        let label = format!("{zh}  {en}");
        self.text_at(LEFT, self.y, 7.5, 95, &label, Some(b));
        for v in values {
            self.paragraph(v, size, 0, 0.0, b);
        }
        self.y += 2.0;
    }

    fn bilingual(&mut self, text: &Bilingual, indent: f32) {
        let b = self.block(Block::Paragraph);
        self.y += 3.0;
        self.paragraph(&format!("· {}", text.zh), 8.5, 0, indent, b);
        self.paragraph(&text.en, 8.0, 70, indent + 7.0, b);
    }
}

fn fill(gray: u8) -> Fill {
    Fill {
        paint: rgb::Color::new(gray, gray, gray).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn t(ts: &Timestamp) -> String {
    ts.to_string()
}

fn delay(ms: i64) -> String {
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

fn kind(k: ItemKind) -> &'static str {
    match k {
        ItemKind::Photo => "照片 photo",
        ItemKind::Video => "视频 video",
        ItemKind::Audio => "录音 audio",
        _ => "其他 other",
    }
}

fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Captured => "现场采集 captured at the scene",
        _ => "事后导入（非现场采集） imported later, not captured",
    }
}

fn party(p: Option<&PartyRecord>) -> String {
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

fn yes_no(b: bool) -> &'static str {
    if b { "是 yes" } else { "否 no" }
}

fn item_facts(l: &mut Layout<'_>, item: &CertifiedItem) {
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

/// The drawing of one certificate.
struct Drawn {
    layout_pages: usize,
    ops: Vec<Placed>,
    blocks: Vec<Block>,
    missing: Vec<char>,
    thumbnail_bytes: usize,
    thumbnail_warning: Option<String>,
}

#[allow(clippy::too_many_lines)]
fn lay_out(
    m: &Metrics,
    signed: &SignedCertificate,
    attachment_sm3: &str,
    url: &str,
    photo: Option<&[u8]>,
) -> Result<Drawn, RenderError> {
    let c = &signed.certificate;
    let mut l = Layout::new(m);

    // The side column: QR code and thumbnail.
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    let width = qr.width();
    let dark: Vec<bool> = qr
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let module = SIDE_W / (width as f32 + 8.0);
    let qb = l.block(Block::Figure(format!(
        "二维码：在线核验本证书 QR code: verify this certificate online at {url}"
    )));
    l.push(
        Op::Qr {
            x: SIDE_X + 4.0 * module,
            y: TOP - 10.0 + 4.0 * module,
            module,
            width,
            dark,
        },
        Some(qb),
    );
    let mut side_y = TOP - 10.0 + SIDE_W + 2.0 * module;
    let cap = l.block(Block::Paragraph);
    l.text_at(SIDE_X + 6.0, side_y, 7.0, 60, "扫码在线核验", Some(cap));
    side_y += 9.0;
    l.text_at(
        SIDE_X + 6.0,
        side_y,
        7.0,
        60,
        "Scan to verify online",
        Some(cap),
    );
    side_y += 14.0;
    let mut thumbnail_bytes = 0;
    let mut thumbnail_warning = None;
    let first = c.items.first();
    match (first, photo) {
        (Some(item), Some(bytes)) if item.kind == ItemKind::Photo => match thumbnail_jpeg(bytes) {
            Ok(jpeg) => {
                let (w, h) = jpeg_size(&jpeg).unwrap_or((1, 1));
                let box_w = SIDE_W - 12.0;
                let scale = box_w / (w.max(h) as f32);
                let (dw, dh) = (w as f32 * scale, h as f32 * scale);
                thumbnail_bytes = jpeg.len();
                let fb = l.block(Block::Figure(format!(
                    "证据照片缩略图 Thumbnail of the evidence photo {}",
                    item.file_name
                )));
                l.push(
                    Op::Image {
                        x: SIDE_X + 6.0 + (box_w - dw) / 2.0,
                        y: side_y,
                        w: dw,
                        h: dh,
                        jpeg,
                    },
                    Some(fb),
                );
                side_y += dh + 10.0;
                let cap = l.block(Block::Paragraph);
                l.text_at(SIDE_X + 6.0, side_y, 7.0, 60, "缩略图（非原件）", Some(cap));
                side_y += 9.0;
                l.text_at(
                    SIDE_X + 6.0,
                    side_y,
                    7.0,
                    60,
                    "Thumbnail, not the original",
                    Some(cap),
                );
            }
            Err(e) => {
                thumbnail_warning = Some(format!(
                    "no thumbnail: the photo could not be decoded ({e})"
                ))
            }
        },
        (Some(item), None) if item.kind == ItemKind::Photo => {
            thumbnail_warning = Some("no thumbnail: the photo was not given".to_owned());
        }
        _ => {}
    }
    let _ = side_y;

    // Page 1: the key facts.
    l.title("存证证书", "Notarised Evidence Certificate");
    let b = l.block(Block::Paragraph);
    l.y += 14.0;
    let issuer = format!("签发机构 Issuer: {}", c.issuer.name);
    l.text_at(LEFT, l.y, 9.0, 40, &issuer, Some(b));
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
        item_facts(&mut l, item);
        l.field(
            "接收时间（公证处时钟，已证明）",
            "Received by the notary (notary clock, proven)",
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
            "接收时间（公证处时钟，已证明）",
            "Received by the notary (notary clock, proven)",
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
        ],
    );
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

    // Details, from a new page unless the statement already ran onto one.
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
        "签发时的保管记录（公证处陈述）",
        "Custody log at issue (the notary's statement)",
        &[
            format!("{} 条事件 events", c.custody.events),
            format!("最后事件哈希 last event hash {}", c.custody.last_event_hash),
        ],
    );
    for item in c.items.iter().skip(1) {
        l.heading("其他证据文件", "Further evidence file");
        item_facts(&mut l, item);
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
        format!("公证处公钥 Notary public key (SM2, ID 1234567812345678): {}", c.issuer.public_key),
    ];
    for s in &steps {
        let b = l.block(Block::Paragraph);
        l.y += 3.0;
        l.paragraph(s, 8.5, 0, 0.0, b);
    }

    // Footers, now that the page count is known.
    let pages = l.pages;
    for p in 0..pages {
        let text = format!(
            "铁证 Tiezheng · 存证证书 {} · 第 {} / {} 页 page {} of {}",
            c.number,
            p + 1,
            pages,
            p + 1,
            pages
        );
        let (shown, _) = font::shown(m, &text);
        l.ops.push(Placed {
            page: p,
            op: Op::Text {
                x: LEFT,
                y: PAGE_H - 30.0,
                size: 7.0,
                gray: 110,
                text: shown,
            },
            block: None,
        });
    }
    Ok(Drawn {
        layout_pages: pages,
        ops: l.ops,
        blocks: l.blocks,
        missing: l.missing,
        thumbnail_bytes,
        thumbnail_warning,
    })
}

/// Width and height of a baseline or progressive JPEG, from its SOF marker.
fn jpeg_size(jpeg: &[u8]) -> Option<(u32, u32)> {
    let mut p = 2;
    while p + 9 < jpeg.len() {
        if *jpeg.get(p)? != 0xFF {
            return None;
        }
        let marker = *jpeg.get(p + 1)?;
        let len = usize::from(u16::from_be_bytes([*jpeg.get(p + 2)?, *jpeg.get(p + 3)?]));
        if matches!(marker, 0xC0..=0xC3) {
            let h = u16::from_be_bytes([*jpeg.get(p + 5)?, *jpeg.get(p + 6)?]);
            let w = u16::from_be_bytes([*jpeg.get(p + 7)?, *jpeg.get(p + 8)?]);
            return Some((u32::from(w), u32::from(h)));
        }
        p += 2 + len;
    }
    None
}

fn pdf_date(ts: &Timestamp) -> DateTime {
    let (y, mo, d, h, mi, s, _) = ts.local_fields();
    let off = ts.offset_minutes();
    let n = |v: i64| u8::try_from(v).unwrap_or(0);
    DateTime::new(u16::try_from(y).unwrap_or(2000))
        .month(n(mo))
        .day(n(d))
        .hour(n(h))
        .minute(n(mi))
        .second(n(s))
        .utc_offset_hour(i8::try_from(off / 60).unwrap_or(0))
        .utc_offset_minute(u8::try_from(off.unsigned_abs() % 60).unwrap_or(0))
}

fn draw(surface: &mut Surface<'_>, op: &Op, font: &krilla::text::Font, m: &Metrics) {
    match op {
        Op::Text {
            x,
            y,
            size,
            gray,
            text,
        } => {
            surface.set_fill(Some(fill(*gray)));
            let glyphs = font::glyphs(m, text);
            surface.draw_glyphs(
                Point::from_xy(*x, *y),
                &glyphs,
                font.clone(),
                text,
                *size,
                false,
            );
        }
        Op::Rect { rect, gray } => {
            let mut pb = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(rect.0, rect.1, rect.2, rect.3) {
                pb.push_rect(r);
            }
            if let Some(path) = pb.finish() {
                surface.set_fill(Some(fill(*gray)));
                surface.draw_path(&path);
            }
        }
        Op::Image { x, y, w, h, jpeg } => {
            if let (Ok(img), Some(size)) = (
                Image::from_jpeg(jpeg.clone().into(), false),
                Size::from_wh(*w, *h),
            ) {
                surface.push_transform(&Transform::from_translate(*x, *y));
                surface.draw_image(img, size);
                surface.pop();
            }
        }
        Op::Qr {
            x,
            y,
            module,
            width,
            dark,
        } => {
            let mut pb = PathBuilder::new();
            for (row, cells) in dark.chunks(*width).enumerate() {
                let mut col = 0;
                while col < cells.len() {
                    if cells.get(col) == Some(&true) {
                        let start = col;
                        while cells.get(col) == Some(&true) {
                            col += 1;
                        }
                        if let Some(r) = Rect::from_xywh(
                            x + start as f32 * module,
                            y + row as f32 * module,
                            (col - start) as f32 * module,
                            *module,
                        ) {
                            pb.push_rect(r);
                        }
                    } else {
                        col += 1;
                    }
                }
            }
            if let Some(path) = pb.finish() {
                surface.set_fill(Some(fill(0)));
                surface.draw_path(&path);
            }
        }
    }
}

/// Renders `signed` (with `photo`, the evidence file, for the thumbnail of a photo).
pub fn render(signed: &SignedCertificate, photo: Option<&[u8]>) -> Result<Rendered, RenderError> {
    let loaded = font::loaded().ok_or(RenderError::Font)?;
    let m = &loaded.metrics;
    let attachment = signed
        .to_bytes()
        .map_err(|e| RenderError::Certificate(e.to_string()))?;
    let attachment_sm3 = tiezheng_protocol::Hash32::sm3(&attachment);
    let url = signed
        .verification_url()
        .map_err(|e| RenderError::Certificate(e.to_string()))?;
    let drawn = lay_out(m, signed, &attachment_sm3.to_hex(), &url, photo)?;
    let c = &signed.certificate;

    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_U)
        .finish()
        .map_err(|e| RenderError::Pdf(format!("{e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut doc = Document::new_with(settings);
    let mut groups: Vec<TagGroup> = drawn
        .blocks
        .iter()
        .map(|b| {
            let kind: TagKind = match b {
                Block::Heading(level, title) => Tag::Hn(
                    NonZeroU16::new(*level).unwrap_or(NonZeroU16::MIN),
                    Some(title.clone()),
                )
                .into(),
                Block::Paragraph => Tag::P.into(),
                Block::Figure(alt) => Tag::Figure(Some(alt.clone())).into(),
            };
            TagGroup::new(kind)
        })
        .collect();
    let page_settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| RenderError::Pdf("page size".into()))?;
    for p in 0..drawn.layout_pages {
        let mut page = doc.start_page_with(page_settings.clone());
        let mut surface = page.surface();
        for placed in drawn.ops.iter().filter(|o| o.page == p) {
            match placed.block.and_then(|b| groups.get_mut(b)) {
                Some(group) => {
                    let tag = match placed.op {
                        Op::Text { .. } => ContentTag::Span(SpanTag::empty()),
                        _ => ContentTag::Other,
                    };
                    let id = surface.start_tagged(tag);
                    draw(&mut surface, &placed.op, &loaded.font, m);
                    surface.end_tagged();
                    group.push(id);
                }
                None => {
                    let kind = match placed.op {
                        Op::Text { .. } => ArtifactType::Footer,
                        _ => ArtifactType::Layout,
                    };
                    surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(kind)));
                    draw(&mut surface, &placed.op, &loaded.font, m);
                    surface.end_tagged();
                }
            }
        }
        surface.finish();
        page.finish();
    }
    let mut tree = TagTree::new().with_lang(Some("zh-CN".to_owned()));
    for g in groups {
        tree.push(g);
    }
    doc.set_tag_tree(tree);
    let issued = pdf_date(&c.issued_at);
    doc.set_metadata(
        Metadata::new()
            .title(format!("存证证书 Notarised Evidence Certificate {}", c.number))
            .description(format!(
                "Certificate {} for proof {}; the signed certificate (tiezheng.certificate.v1, SM3 {attachment_sm3}) is attached.",
                c.number, c.proof_sm3
            ))
            .creator("Tiezheng notary".to_owned())
            .authors(vec![c.issuer.name.clone()])
            .language("zh-CN".to_owned())
            .creation_date(issued)
            .document_id(format!("tiezheng-certificate-{}-{attachment_sm3}", c.number)),
    );
    doc.embed_file(EmbeddedFile {
        path: format!("certificate-{}.json", c.number),
        mime_type: MimeType::new("application/json"),
        description: Some(format!(
            "签名的存证证书 Signed certificate {} (tiezheng.certificate.v1, SM2 by the notary, RFC 8785 JSON; SM3 {attachment_sm3})",
            c.number
        )),
        association_kind: AssociationKind::Source,
        data: attachment.into(),
        modification_date: Some(issued),
        compress: Some(true),
        location: None,
    })
    .ok_or_else(|| RenderError::Pdf("the certificate could not be attached".into()))?;
    let pdf = doc
        .finish()
        .map_err(|e| RenderError::Pdf(format!("{e:?}")))?;
    let mut warnings = Vec::new();
    if !drawn.missing.is_empty() {
        let chars: String = drawn.missing.iter().collect();
        warnings.push(format!(
            "the certificate font lacks {chars:?}: printed as {:?} on the page; the attached certificate holds the exact text",
            font::REPLACEMENT
        ));
    }
    warnings.extend(drawn.thumbnail_warning);
    Ok(Rendered {
        pdf,
        warnings,
        thumbnail_bytes: drawn.thumbnail_bytes,
        attachment_sm3,
    })
}

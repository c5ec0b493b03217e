//! Writing a laid-out document (a certificate, an appraisal opinion) with krilla: drawing each
//! operation inside its tag-tree block (or as an artifact), the document metadata, and the
//! signed document attached as the PDF/A-3u associated file.

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
use tiezheng_protocol::Timestamp;
use tiezheng_protocol::certificate::SignedCertificate;

use super::{Block, Op, PAGE_H, PAGE_W, lay_out};
use crate::font::{self, Metrics};
use crate::{RenderError, Rendered};

fn fill(gray: u8) -> Fill {
    Fill {
        paint: rgb::Color::new(gray, gray, gray).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
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
    let (zh, en) = c.issuer.operator_type.title();
    let meta = Meta {
        title: format!("{zh} {en} {}", c.number),
        description: format!(
            "Certificate {} for proof {}; the signed certificate (tiezheng.certificate.v1, SM3 {attachment_sm3}) is attached.",
            c.number, c.proof_sm3
        ),
        creator: "Tiezheng notary",
        author: c.issuer.name.clone(),
        date: c.issued_at,
        document_id: format!("tiezheng-certificate-{}-{attachment_sm3}", c.number),
        attachment_name: format!("certificate-{}.json", c.number),
        attachment_description: format!(
            "签名的存证证书 Signed certificate {} (tiezheng.certificate.v1, SM2 by the notary, RFC 8785 JSON; SM3 {attachment_sm3})",
            c.number
        ),
    };
    let thumbnail_bytes = drawn.thumbnail_bytes;
    let (pdf, warnings) = write(drawn, &loaded.font, m, &meta, attachment)?;
    Ok(Rendered {
        pdf,
        warnings,
        thumbnail_bytes,
        attachment_sm3,
    })
}

/// What the PDF says about itself and its one attached file.
pub(super) struct Meta {
    pub(super) title: String,
    pub(super) description: String,
    pub(super) creator: &'static str,
    pub(super) author: String,
    pub(super) date: Timestamp,
    pub(super) document_id: String,
    pub(super) attachment_name: String,
    pub(super) attachment_description: String,
}

/// Writes `drawn` as tagged PDF/A-3u with `attachment` as its one associated file (`Source`);
/// returns the bytes and the warnings (characters the font lacks, no thumbnail).
pub(super) fn write(
    drawn: super::Drawn,
    font_ref: &krilla::text::Font,
    m: &Metrics,
    meta: &Meta,
    attachment: Vec<u8>,
) -> Result<(Vec<u8>, Vec<String>), RenderError> {
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
                    draw(&mut surface, &placed.op, font_ref, m);
                    surface.end_tagged();
                    group.push(id);
                }
                None => {
                    let kind = match placed.op {
                        Op::Text { .. } => ArtifactType::Footer,
                        _ => ArtifactType::Layout,
                    };
                    surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(kind)));
                    draw(&mut surface, &placed.op, font_ref, m);
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
    let date = pdf_date(&meta.date);
    doc.set_metadata(
        Metadata::new()
            .title(meta.title.clone())
            .description(meta.description.clone())
            .creator(meta.creator.to_owned())
            .authors(vec![meta.author.clone()])
            .language("zh-CN".to_owned())
            .creation_date(date)
            .document_id(meta.document_id.clone()),
    );
    doc.embed_file(EmbeddedFile {
        path: meta.attachment_name.clone(),
        mime_type: MimeType::new("application/json"),
        description: Some(meta.attachment_description.clone()),
        association_kind: AssociationKind::Source,
        data: attachment.into(),
        modification_date: Some(date),
        compress: Some(true),
        location: None,
    })
    .ok_or_else(|| RenderError::Pdf("the signed document could not be attached".into()))?;
    let pdf = doc
        .finish()
        .map_err(|e| RenderError::Pdf(format!("{e:?}")))?;
    let mut warnings = Vec::new();
    if !drawn.missing.is_empty() {
        let chars: String = drawn.missing.iter().collect();
        warnings.push(format!(
            "the font lacks {chars:?}: printed as {:?} on the page; the attached document holds the exact text",
            font::REPLACEMENT
        ));
    }
    warnings.extend(drawn.thumbnail_warning);
    Ok((pdf, warnings))
}

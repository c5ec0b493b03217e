//! The first page's side column: the QR code that opens the notary's verification page (also
//! on the appraisal opinion), and the thumbnail of the evidence photo with its caption.

use tiezheng_protocol::certificate::CertifiedItem;
use tiezheng_protocol::manifest::ItemKind;

use super::flow::Layout;
use super::{Block, Op, SIDE_W, SIDE_X, TOP};
use crate::RenderError;
use crate::thumbnail::thumbnail_jpeg;

/// Lays out the QR code for `url` and, when the first item is a photo and `photo` decodes, its
/// thumbnail. Returns the thumbnail's size in bytes (0 when none) and why there is none, if a
/// photo's thumbnail is missing.
pub(super) fn side_column(
    l: &mut Layout<'_>,
    first: Option<&CertifiedItem>,
    url: &str,
    photo: Option<&[u8]>,
) -> Result<(usize, Option<String>), RenderError> {
    let mut side_y = qr_code(
        l,
        url,
        &format!("二维码：在线核验本证书 QR code: verify this certificate online at {url}"),
    )?;
    let mut thumbnail_bytes = 0;
    let mut thumbnail_warning = None;
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
                caption(l, side_y, "缩略图（非原件）", "Thumbnail, not the original");
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
    Ok((thumbnail_bytes, thumbnail_warning))
}

/// Lays out the QR code for `url` at the top of the side column, described by `alt`, with its
/// caption; returns where the column continues.
pub(super) fn qr_code(l: &mut Layout<'_>, url: &str, alt: &str) -> Result<f32, RenderError> {
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    let width = qr.width();
    let dark: Vec<bool> = qr
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let module = SIDE_W / (width as f32 + 8.0);
    let qb = l.block(Block::Figure(alt.to_owned()));
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
    let side_y = TOP - 10.0 + SIDE_W + 2.0 * module;
    Ok(caption(l, side_y, "扫码在线核验", "Scan to verify online") + 14.0)
}

/// A two-line caption in the side column at `y`, Chinese then English; returns the second
/// line's position.
fn caption(l: &mut Layout<'_>, y: f32, zh: &str, en: &str) -> f32 {
    let cap = l.block(Block::Paragraph);
    l.text_at(SIDE_X + 6.0, y, 7.0, 60, zh, Some(cap));
    l.text_at(SIDE_X + 6.0, y + 9.0, 7.0, 60, en, Some(cap));
    y + 9.0
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

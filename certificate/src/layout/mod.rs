//! Laying out the certificate (a list of drawing operations per page, each belonging to a
//! block of the tag tree) and writing it with krilla as tagged PDF/A-3u with the signed
//! certificate attached.
//!
//! One file per part: the text flow (`flow.rs`), the first page's side column with the QR code
//! and the thumbnail (`side.rs`), its key facts (`key_facts.rs`), the facts of one evidence file
//! (`item.rs`), the details pages (`details.rs`), how facts are worded (`wording.rs`), and the
//! writing of the PDF (`pdf.rs`). This file holds the page geometry, the drawing operations and
//! the order in which the sections are laid out.

use tiezheng_protocol::certificate::SignedCertificate;

use crate::RenderError;
use crate::font::{self, Metrics};

mod details;
mod flow;
mod item;
mod key_facts;
mod opinion;
mod pdf;
mod record;
mod side;
mod wording;

pub use opinion::render_opinion;
pub use pdf::render;

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

/// The drawing of one certificate.
struct Drawn {
    layout_pages: usize,
    ops: Vec<Placed>,
    blocks: Vec<Block>,
    missing: Vec<char>,
    thumbnail_bytes: usize,
    thumbnail_warning: Option<String>,
}

/// Lays out `signed`: the side column, the first page, the details, then the footers once the
/// page count is known.
fn lay_out(
    m: &Metrics,
    signed: &SignedCertificate,
    attachment_sm3: &str,
    url: &str,
    photo: Option<&[u8]>,
) -> Result<Drawn, RenderError> {
    let c = &signed.certificate;
    let mut l = flow::Layout::new(m);
    let (thumbnail_bytes, thumbnail_warning) =
        side::side_column(&mut l, c.items.first(), url, photo)?;
    key_facts::key_facts(&mut l, c, attachment_sm3);
    details::details(&mut l, c);

    footers(&mut l, &format!("存证证书 {}", c.number));
    Ok(Drawn {
        layout_pages: l.pages,
        ops: l.ops,
        blocks: l.blocks,
        missing: l.missing,
        thumbnail_bytes,
        thumbnail_warning,
    })
}

/// The footer of every page, now that the page count is known: `label` and the page number.
fn footers(l: &mut flow::Layout<'_>, label: &str) {
    let pages = l.pages;
    for p in 0..pages {
        let text = format!(
            "铁证 Tiezheng · {label} · 第 {} / {} 页 page {} of {}",
            p + 1,
            pages,
            p + 1,
            pages
        );
        let (shown, _) = font::shown(l.m, &text);
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
}

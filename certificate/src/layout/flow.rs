//! The text flow of the certificate: pages filled top to bottom with titles, headings,
//! labelled facts and wrapped paragraphs (Latin text breaks after spaces, CJK anywhere), each
//! drawing operation recorded with the tag-tree block it belongs to.

use tiezheng_protocol::certificate::Bilingual;

use super::{BOTTOM, Block, FIRST_COLUMN, LEFT, Op, Placed, RIGHT, TOP};
use crate::font::{self, Metrics};

/// Pages being filled: the drawing operations and tag-tree blocks so far, where the next line
/// goes, and the characters the font lacks.
pub(super) struct Layout<'a> {
    pub(super) m: &'a Metrics,
    pub(super) pages: usize,
    pub(super) y: f32,
    pub(super) ops: Vec<Placed>,
    pub(super) blocks: Vec<Block>,
    pub(super) missing: Vec<char>,
}

impl<'a> Layout<'a> {
    pub(super) fn new(m: &'a Metrics) -> Self {
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

    pub(super) fn new_page(&mut self) {
        self.pages += 1;
        self.y = TOP;
    }

    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }

    pub(super) fn block(&mut self, b: Block) -> usize {
        self.blocks.push(b);
        self.blocks.len() - 1
    }

    pub(super) fn push(&mut self, op: Op, block: Option<usize>) {
        self.ops.push(Placed {
            page: self.page(),
            op,
            block,
        });
    }

    pub(super) fn text_at(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        gray: u8,
        text: &str,
        block: Option<usize>,
    ) {
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

    pub(super) fn paragraph(&mut self, text: &str, size: f32, gray: u8, indent: f32, block: usize) {
        let lead = size * 1.38;
        for line in self.wrap(text, size, self.width() - indent) {
            self.ensure(lead);
            self.y += lead;
            self.text_at(LEFT + indent, self.y, size, gray, &line, Some(block));
        }
    }

    pub(super) fn title(&mut self, zh: &str, en: &str) {
        let b = self.block(Block::Heading(1, format!("{zh} {en}")));
        self.y += 22.0;
        self.text_at(LEFT, self.y, 22.0, 0, zh, Some(b));
        let x = LEFT + self.m.width(zh, 22.0) + 10.0;
        self.text_at(x, self.y, 13.0, 60, en, Some(b));
        self.y += 6.0;
    }

    pub(super) fn heading(&mut self, zh: &str, en: &str) {
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
    pub(super) fn field(&mut self, zh: &str, en: &str, values: &[String]) {
        self.field_sized(zh, en, values, 9.0);
    }

    pub(super) fn field_sized(&mut self, zh: &str, en: &str, values: &[String], size: f32) {
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

    pub(super) fn bilingual(&mut self, text: &Bilingual, indent: f32) {
        let b = self.block(Block::Paragraph);
        self.y += 3.0;
        self.paragraph(&format!("· {}", text.zh), 8.5, 0, indent, b);
        self.paragraph(&text.en, 8.0, 70, indent + 7.0, b);
    }
}

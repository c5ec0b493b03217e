//! The certificate's font: the repository's subset of Noto Sans CJK SC (see `fonts/README.md`),
//! with the two tables this crate reads itself (`cmap` format 4 for character → glyph, `hmtx`
//! for advances), so that text is laid out one glyph per character and a character the subset
//! lacks is replaced (and reported) instead of drawing `.notdef`, which PDF/A forbids.

use std::collections::HashMap;
use std::sync::OnceLock;

use krilla::text::{Font, GlyphId, KrillaGlyph};

/// The font file, carried by the repository.
pub const FONT_BYTES: &[u8] = include_bytes!("../fonts/NotoSansCJKsc-Regular-GB2312.otf");

/// Drawn in place of a character the font lacks.
pub const REPLACEMENT: char = '?';

/// The parsed metrics of [`FONT_BYTES`].
#[derive(Debug)]
pub(crate) struct Metrics {
    glyphs: HashMap<char, u16>,
    advances: Vec<u16>,
    units_per_em: f32,
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
        *d.get(at + 2)?,
        *d.get(at + 3)?,
    ]))
}

fn table<'a>(d: &'a [u8], tag: &[u8; 4]) -> Option<&'a [u8]> {
    let n = usize::from(u16_at(d, 4)?);
    (0..n).find_map(|i| {
        let rec = 12 + i * 16;
        if d.get(rec..rec + 4)? != tag {
            return None;
        }
        let off = usize::try_from(u32_at(d, rec + 8)?).ok()?;
        let len = usize::try_from(u32_at(d, rec + 12)?).ok()?;
        d.get(off..off.checked_add(len)?)
    })
}

impl Metrics {
    fn parse(d: &[u8]) -> Option<Self> {
        let head = table(d, b"head")?;
        let units_per_em = f32::from(u16_at(head, 18)?);
        let hhea = table(d, b"hhea")?;
        let n_metrics = usize::from(u16_at(hhea, 34)?);
        let hmtx = table(d, b"hmtx")?;
        let advances = (0..n_metrics)
            .map(|i| u16_at(hmtx, i * 4))
            .collect::<Option<Vec<u16>>>()?;
        let cmap = table(d, b"cmap")?;
        let sub = (0..usize::from(u16_at(cmap, 2)?)).find_map(|i| {
            let rec = 4 + i * 8;
            let (platform, encoding) = (u16_at(cmap, rec)?, u16_at(cmap, rec + 2)?);
            let off = usize::try_from(u32_at(cmap, rec + 4)?).ok()?;
            let sub = cmap.get(off..)?;
            (platform == 3 && encoding == 1 && u16_at(sub, 0)? == 4).then_some(sub)
        })?;
        let seg_count = usize::from(u16_at(sub, 6)? / 2);
        let ends = 14;
        let starts = ends + seg_count * 2 + 2;
        let deltas = starts + seg_count * 2;
        let range_offsets = deltas + seg_count * 2;
        let mut glyphs = HashMap::new();
        for s in 0..seg_count {
            let end = u16_at(sub, ends + s * 2)?;
            let start = u16_at(sub, starts + s * 2)?;
            let delta = u16_at(sub, deltas + s * 2)?;
            let range_offset = usize::from(u16_at(sub, range_offsets + s * 2)?);
            for c in start..=end {
                if c == 0xFFFF {
                    break;
                }
                let glyph = if range_offset == 0 {
                    c.wrapping_add(delta)
                } else {
                    let at = range_offsets + s * 2 + range_offset + usize::from(c - start) * 2;
                    match u16_at(sub, at)? {
                        0 => 0,
                        g => g.wrapping_add(delta),
                    }
                };
                if let Some(ch) = char::from_u32(u32::from(c))
                    && glyph != 0
                {
                    glyphs.insert(ch, glyph);
                }
            }
        }
        Some(Self {
            glyphs,
            advances,
            units_per_em,
        })
    }

    /// The glyph of `c`, if the font has one.
    pub(crate) fn glyph(&self, c: char) -> Option<u16> {
        self.glyphs.get(&c).copied()
    }

    /// The advance of glyph `g` in em.
    pub(crate) fn advance(&self, g: u16) -> f32 {
        let i = usize::from(g);
        let units = self
            .advances
            .get(i)
            .or_else(|| self.advances.last())
            .copied()
            .unwrap_or(0);
        f32::from(units) / self.units_per_em
    }

    /// Width of `text` at `size` points (characters the font lacks count as the replacement).
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| {
                self.glyph(c)
                    .or_else(|| self.glyph(REPLACEMENT))
                    .map_or(0.0, |g| self.advance(g))
            })
            .sum::<f32>()
            * size
    }
}

/// The font and its metrics, loaded once.
pub(crate) struct Loaded {
    pub(crate) font: Font,
    pub(crate) metrics: Metrics,
}

/// The font and its metrics (`None` only if the committed font file were damaged).
pub(crate) fn loaded() -> Option<&'static Loaded> {
    static LOADED: OnceLock<Option<Loaded>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            Some(Loaded {
                font: Font::new(FONT_BYTES.into(), 0)?,
                metrics: Metrics::parse(FONT_BYTES)?,
            })
        })
        .as_ref()
}

/// `text` as the font can show it: characters it lacks become [`REPLACEMENT`] and are
/// returned (once each) so the caller can warn; control characters become spaces.
pub(crate) fn shown(metrics: &Metrics, text: &str) -> (String, Vec<char>) {
    let mut missing = Vec::new();
    let s = text
        .chars()
        .map(|c| {
            if c.is_control() {
                ' '
            } else if metrics.glyph(c).is_some() {
                c
            } else {
                if !missing.contains(&c) {
                    missing.push(c);
                }
                REPLACEMENT
            }
        })
        .collect();
    (s, missing)
}

/// One glyph per character of `text`, which must already be [`shown`].
pub(crate) fn glyphs(metrics: &Metrics, text: &str) -> Vec<KrillaGlyph> {
    text.char_indices()
        .filter_map(|(i, c)| {
            let g = metrics.glyph(c)?;
            Some(KrillaGlyph::new(
                GlyphId::new(u32::from(g)),
                metrics.advance(g),
                0.0,
                0.0,
                0.0,
                i..i + c.len_utf8(),
                None,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_subset_maps_what_certificates_print() {
        let l = loaded().unwrap();
        for c in "存证证书编号签发时间〔〕（）：；、。 Certificate 0123456789abcdef-·—".chars()
        {
            assert!(l.metrics.glyph(c).is_some(), "{c:?}");
        }
        // Digits have one width (hashes line up), CJK is one em.
        let d = l.metrics.advance(l.metrics.glyph('0').unwrap());
        assert!((l.metrics.advance(l.metrics.glyph('9').unwrap()) - d).abs() < 1e-3);
        assert!((l.metrics.advance(l.metrics.glyph('证').unwrap()) - 1.0).abs() < 1e-3);
        // Outside GB 2312 (a rare character in a name): replaced, reported, never panics.
        let (s, missing) = shown(&l.metrics, "王𠀋\u{7}");
        assert_eq!(s, "王? ");
        assert_eq!(missing, vec!['𠀋']);
    }
}

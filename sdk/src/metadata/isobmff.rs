//! Metadata from ISOBMFF containers (MP4, MOV, M4A): `mvhd` creation time, and location from
//! QuickTime `©xyz`, 3GPP `loci` or Apple `mdta` keys. Only small boxes are read; media data is
//! skipped by seeking, so memory stays constant and hostile sizes cannot force allocations.

use std::io::{Read, Seek, SeekFrom};

use super::{RawGps, iso6709};

/// Largest box body read into memory.
const MAX_SMALL_BOX: u64 = 64 * 1024;
/// Deepest nesting followed.
const MAX_DEPTH: usize = 6;
/// Most boxes visited in one file (defends against billions of empty boxes).
const MAX_BOXES: usize = 10_000;
/// Seconds between 1904-01-01 and 1970-01-01.
const MAC_EPOCH_OFFSET: u64 = 2_082_844_800;

/// What was found.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Found {
    /// `mvhd` creation time, Unix seconds (UTC).
    pub(crate) creation_unix: Option<i64>,
    /// Apple creation date string (ISO 8601 with offset), preferred over `mvhd` when present.
    pub(crate) apple_creation: Option<String>,
    pub(crate) gps: Option<(RawGps, &'static str)>,
    pub(crate) make: Option<String>,
    pub(crate) model: Option<String>,
}

/// Why the container could not be walked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IsoError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Format(&'static str),
}

struct Walker<'r, R> {
    r: &'r mut R,
    boxes: usize,
    found: Found,
    keys: Vec<String>,
}

/// Walks the file's boxes collecting metadata.
pub(crate) fn read<R: Read + Seek>(r: &mut R) -> Result<Found, IsoError> {
    let end = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let mut w = Walker {
        r,
        boxes: 0,
        found: Found::default(),
        keys: Vec::new(),
    };
    w.walk(0, end, 0, None)?;
    Ok(w.found)
}

impl<R: Read + Seek> Walker<'_, R> {
    fn walk(
        &mut self,
        start: u64,
        end: u64,
        depth: usize,
        parent: Option<[u8; 4]>,
    ) -> Result<(), IsoError> {
        let mut pos = start;
        while pos.saturating_add(8) <= end {
            self.boxes += 1;
            if self.boxes > MAX_BOXES {
                return Err(IsoError::Format("too many boxes"));
            }
            self.r.seek(SeekFrom::Start(pos))?;
            let mut hdr = [0u8; 8];
            if self.r.read_exact(&mut hdr).is_err() {
                break; // truncated file: keep what was found
            }
            let (size32, typ) = split_header(&hdr);
            let (body, box_end) = match size32 {
                0 => (pos + 8, end),
                1 => {
                    let mut big = [0u8; 8];
                    if self.r.read_exact(&mut big).is_err() {
                        break;
                    }
                    let size = u64::from_be_bytes(big);
                    if size < 16 {
                        return Err(IsoError::Format("box with invalid 64-bit size"));
                    }
                    (pos + 16, pos.saturating_add(size))
                }
                s if s < 8 => return Err(IsoError::Format("box with size below 8")),
                s => (pos + 8, pos.saturating_add(u64::from(s))),
            };
            // A box running past its parent (a truncated recording) is read as far as it goes.
            let box_end = box_end.min(end);
            self.visit(typ, body, box_end, depth, parent)?;
            if box_end <= pos {
                break;
            }
            pos = box_end;
        }
        Ok(())
    }

    fn visit(
        &mut self,
        typ: [u8; 4],
        body: u64,
        end: u64,
        depth: usize,
        parent: Option<[u8; 4]>,
    ) -> Result<(), IsoError> {
        if depth >= MAX_DEPTH {
            return Ok(());
        }
        match &typ {
            b"moov" | b"udta" => self.walk(body, end, depth + 1, Some(typ)),
            b"meta" => {
                // ISO `meta` is a FullBox (4 bytes of version/flags); QuickTime's is not.
                let head = self.small(body, end.min(body + 8))?;
                let skip = if head.get(4..8) == Some(b"hdlr") {
                    0
                } else {
                    4
                };
                self.walk(body + skip, end, depth + 1, Some(typ))
            }
            b"mvhd" => {
                let b = self.small(body, end)?;
                let secs = match b.first() {
                    Some(1) => b
                        .get(4..12)
                        .and_then(|s| s.try_into().ok())
                        .map(u64::from_be_bytes),
                    Some(0) => b
                        .get(4..8)
                        .and_then(|s| s.try_into().ok())
                        .map(u32::from_be_bytes)
                        .map(u64::from),
                    _ => None,
                };
                if let Some(secs) = secs.filter(|&s| s > MAC_EPOCH_OFFSET) {
                    self.found.creation_unix = i64::try_from(secs - MAC_EPOCH_OFFSET).ok();
                }
                Ok(())
            }
            b"\xa9xyz" if parent == Some(*b"udta") => {
                let b = self.small(body, end)?;
                // QuickTime user-data text: u16 length, u16 language, text.
                let len = be_u16(&b, 0).map_or(0, usize::from);
                if let Some(text) = b.get(4..4 + len).and_then(|t| std::str::from_utf8(t).ok())
                    && let Some(p) = iso6709::parse(text)
                {
                    self.found.gps.get_or_insert((p, "quicktime-xyz"));
                }
                Ok(())
            }
            b"loci" => {
                let b = self.small(body, end)?;
                if let Some(p) = parse_loci(&b) {
                    self.found.gps.get_or_insert((p, "3gpp-loci"));
                }
                Ok(())
            }
            b"keys" if parent == Some(*b"meta") => {
                let b = self.small(body, end)?;
                self.keys = parse_keys(&b);
                Ok(())
            }
            b"ilst" if parent == Some(*b"meta") => {
                let b = self.small(body, end)?;
                self.apply_ilst(&b);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Reads a small box body (at most 64 KiB).
    fn small(&mut self, body: u64, end: u64) -> Result<Vec<u8>, IsoError> {
        let len = end.saturating_sub(body).min(MAX_SMALL_BOX);
        self.r.seek(SeekFrom::Start(body))?;
        let mut buf = Vec::new();
        self.r.by_ref().take(len).read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// Apple metadata items: children of `ilst` named by 1-based index into `keys`.
    fn apply_ilst(&mut self, b: &[u8]) {
        let mut pos = 0usize;
        while let Some(hdr) = b.get(pos..pos + 8) {
            let (size, typ) = split_header(hdr.try_into().unwrap_or(&[0; 8]));
            let size = usize::try_from(size).unwrap_or(0);
            if size < 8 {
                break;
            }
            let item = b
                .get(pos + 8..(pos + size).min(b.len()))
                .unwrap_or_default();
            let index = usize::try_from(u32::from_be_bytes(typ)).unwrap_or(0);
            if let Some(key) = index.checked_sub(1).and_then(|i| self.keys.get(i)).cloned()
                && let Some(text) = data_text(item)
            {
                match key.as_str() {
                    "com.apple.quicktime.location.ISO6709" => {
                        if let Some(p) = iso6709::parse(&text) {
                            self.found.gps = Some((p, "quicktime-mdta"));
                        }
                    }
                    "com.apple.quicktime.creationdate" => self.found.apple_creation = Some(text),
                    "com.apple.quicktime.make" => self.found.make = Some(text),
                    "com.apple.quicktime.model" => self.found.model = Some(text),
                    _ => {}
                }
            }
            pos += size;
        }
    }
}

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn split_header(hdr: &[u8; 8]) -> (u32, [u8; 4]) {
    let [a, b, c, d, e, f, g, h] = *hdr;
    (u32::from_be_bytes([a, b, c, d]), [e, f, g, h])
}

/// The text of the first `data` box inside an `ilst` item (type 1 = UTF-8).
fn data_text(item: &[u8]) -> Option<String> {
    let hdr: &[u8; 8] = item.get(..8)?.try_into().ok()?;
    let (size, typ) = split_header(hdr);
    if &typ != b"data" {
        return None;
    }
    let size = usize::try_from(size).ok()?;
    let payload = item.get(16..size.min(item.len()))?;
    String::from_utf8(payload.to_vec())
        .ok()
        .map(|s| s.trim_end_matches('\0').to_owned())
}

/// `keys` (FullBox): entry count, then (size, namespace, name) entries.
fn parse_keys(b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let count = be_u32(b, 4).unwrap_or(0);
    let mut pos = 8usize;
    for _ in 0..count.min(1024) {
        let Some(size) = be_u32(b, pos) else { break };
        let size = usize::try_from(size).unwrap_or(0);
        if size < 8 {
            break;
        }
        let name = b
            .get(pos + 8..(pos + size).min(b.len()))
            .unwrap_or_default();
        out.push(String::from_utf8_lossy(name).into_owned());
        pos += size;
    }
    out
}

/// 3GPP `loci` (TS 26.244): FullBox, language, name, role, then 16.16 fixed-point longitude,
/// latitude and altitude.
fn parse_loci(b: &[u8]) -> Option<RawGps> {
    let rest = b.get(6..)?;
    let name_end = rest.iter().position(|&c| c == 0)?;
    let nums = rest.get(name_end + 2..name_end + 14)?;
    let fixed = |i: usize| -> Option<f64> {
        let v = i32::from_be_bytes(nums.get(i..i + 4)?.try_into().ok()?);
        Some(f64::from(v) / 65536.0)
    };
    // 16.16 fixed point resolves 1/65536 degree (about 1.5e-5); more digits would be noise.
    let round5 = |v: f64| (v * 1e5).round() / 1e5;
    Some(RawGps {
        latitude: round5(fixed(4)?),
        longitude: round5(fixed(0)?),
        altitude: Some(round5(fixed(8)?)),
        places: 5,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_boxes_do_not_panic_or_allocate() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            b"\0\0\0\x01moov\0\0\0\0\0\0\0\x02".to_vec(),
            b"\0\0\0\x04moov".to_vec(),
            b"\xff\xff\xff\xffmoov\0\0\0\x08mvhd".to_vec(),
            [b"\0\0\0\x10moov".as_slice(), b"\0\0\0\x08udta"].concat(),
        ];
        for c in cases {
            let _ = read(&mut std::io::Cursor::new(c));
        }
    }
}

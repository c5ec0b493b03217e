//! XMP in JPEG (APP1 `http://ns.adobe.com/xap/1.0/`): a fallback for capture time, make and
//! model when EXIF lacks them. A bounded scan of the JPEG's header segments.

use std::io::Read;

use super::{MetadataReport, normalize_iso};

const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// Most header segments examined before giving up.
const MAX_SEGMENTS: usize = 64;

pub(super) fn read_jpeg<R: Read>(r: &mut R, report: &mut MetadataReport) {
    let Some(xmp) = find_packet(r) else { return };
    let text = String::from_utf8_lossy(&xmp);
    let m = &mut report.metadata;
    let mut used = false;
    if m.captured_at.is_none() {
        let t = [
            "exif:DateTimeOriginal",
            "photoshop:DateCreated",
            "xmp:CreateDate",
        ]
        .iter()
        .find_map(|name| property(&text, name).and_then(|v| normalize_iso(&v)));
        if let Some(t) = t {
            m.captured_at = Some(t);
            used = true;
        }
    }
    if m.make.is_none()
        && let Some(v) = property(&text, "tiff:Make")
    {
        m.make = Some(v);
        used = true;
    }
    if m.model.is_none()
        && let Some(v) = property(&text, "tiff:Model")
    {
        m.model = Some(v);
        used = true;
    }
    if used {
        report.source("xmp");
    }
}

/// The XMP packet of a JPEG, if any, reading only header segments (each at most 64 KiB).
fn find_packet<R: Read>(r: &mut R) -> Option<Vec<u8>> {
    let mut soi = [0u8; 2];
    r.read_exact(&mut soi).ok()?;
    if soi != [0xff, 0xd8] {
        return None;
    }
    for _ in 0..MAX_SEGMENTS {
        let mut marker = [0u8; 2];
        r.read_exact(&mut marker).ok()?;
        if marker[0] != 0xff {
            return None;
        }
        match marker[1] {
            0xd8 | 0x01 | 0xd0..=0xd7 => continue,
            0xd9 | 0xda => return None,
            _ => {}
        }
        let mut len = [0u8; 2];
        r.read_exact(&mut len).ok()?;
        let len = usize::from(u16::from_be_bytes(len)).checked_sub(2)?;
        let mut seg = Vec::with_capacity(len);
        r.by_ref().take(len as u64).read_to_end(&mut seg).ok()?;
        if seg.len() < len {
            return None;
        }
        if marker[1] == 0xe1 && seg.starts_with(XMP_SIGNATURE) {
            return seg.get(XMP_SIGNATURE.len()..).map(<[u8]>::to_vec);
        }
    }
    None
}

/// A simple XMP property, written as an attribute (`name="v"`) or an element (`<name>v</name>`).
fn property(xmp: &str, name: &str) -> Option<String> {
    let attr = format!("{name}=\"");
    if let Some(start) = xmp.find(&attr) {
        let rest = xmp.get(start + attr.len()..)?;
        return rest.split('"').next().map(str::to_owned);
    }
    let open = format!("<{name}>");
    let start = xmp.find(&open)? + open.len();
    let rest = xmp.get(start..)?;
    let value = rest.split('<').next()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties() {
        let x = r#"<rdf:Description exif:DateTimeOriginal="2013-07-05T03:18:27Z"><tiff:Make>Canon</tiff:Make>"#;
        assert_eq!(
            property(x, "exif:DateTimeOriginal").as_deref(),
            Some("2013-07-05T03:18:27Z")
        );
        assert_eq!(property(x, "tiff:Make").as_deref(), Some("Canon"));
        assert_eq!(property(x, "tiff:Model"), None);
    }
}

//! Recognising media from its first bytes (never from the file name).

use tiezheng_protocol::manifest::ItemKind;

/// What the first bytes say a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaType {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG.
    Png,
    /// HEIF/HEIC still image (ISOBMFF with a HEIF brand).
    Heif,
    /// MP4 video (ISOBMFF).
    Mp4,
    /// QuickTime movie.
    QuickTime,
    /// MPEG-4 audio (`M4A `).
    M4a,
    /// Anything else.
    Unknown,
}

impl MediaType {
    /// Sniffs the type from the first bytes of a file (16 are enough).
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0xff, 0xd8, 0xff]) {
            return Self::Jpeg;
        }
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Self::Png;
        }
        if head.get(4..8) == Some(b"ftyp") {
            return match head.get(8..12) {
                Some(
                    b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1"
                    | b"avif",
                ) => Self::Heif,
                Some(b"qt  ") => Self::QuickTime,
                Some(b"M4A " | b"M4B ") => Self::M4a,
                Some(_) => Self::Mp4,
                None => Self::Unknown,
            };
        }
        // QuickTime files may start with `wide`, `free` or `mdat` instead of `ftyp`.
        if matches!(
            head.get(4..8),
            Some(b"moov" | b"mdat" | b"wide" | b"free" | b"skip")
        ) {
            return Self::QuickTime;
        }
        Self::Unknown
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Heif => "image/heic",
            Self::Mp4 => "video/mp4",
            Self::QuickTime => "video/quicktime",
            Self::M4a => "audio/mp4",
            Self::Unknown => "application/octet-stream",
        }
    }

    /// The manifest's item kind.
    pub fn kind(self) -> ItemKind {
        match self {
            Self::Jpeg | Self::Png | Self::Heif => ItemKind::Photo,
            Self::Mp4 | Self::QuickTime => ItemKind::Video,
            Self::M4a => ItemKind::Audio,
            Self::Unknown => ItemKind::Other,
        }
    }

    /// Whether the container is ISOBMFF (MP4/MOV/HEIF).
    pub fn is_isobmff(self) -> bool {
        matches!(self, Self::Heif | Self::Mp4 | Self::QuickTime | Self::M4a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(MediaType::sniff(&[0xff, 0xd8, 0xff, 0xe1]), MediaType::Jpeg);
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            MediaType::Heif
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x14ftypqt  \0\0\0\0"),
            MediaType::QuickTime
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x1cftypM4A \0\0\0\0"),
            MediaType::M4a
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x20ftypisom\0\0\0\0"),
            MediaType::Mp4
        );
        assert_eq!(MediaType::sniff(b""), MediaType::Unknown);
        assert_eq!(MediaType::sniff(b"GIF89a"), MediaType::Unknown);
    }
}

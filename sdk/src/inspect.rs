//! Inspecting a file: hashes, type, metadata, fingerprint and findings, as `tiezheng inspect`
//! prints them and as capture records them.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::Path;

use tiezheng_protocol::ContentDigests;
use tiezheng_protocol::manifest::{Finding, Fingerprint, MediaMetadata};

use crate::files::{FileError, hash_file};
use crate::fingerprint;
use crate::media::MediaType;
use crate::metadata::{self, MetadataReport};

/// Everything learned about one file.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The type sniffed from the bytes.
    pub media: MediaType,
    /// Size, SM3 and SHA-256.
    pub digests: ContentDigests,
    /// Metadata read from the file.
    pub metadata: MediaMetadata,
    /// Perceptual fingerprint (photos that decode).
    pub fingerprint: Option<Fingerprint>,
    /// Findings: unreadable or missing metadata, undecodable image.
    pub findings: Vec<Finding>,
}

/// Inspects a file on disk (streaming: constant memory apart from image decoding).
pub fn inspect_file(path: &Path) -> Result<Inspection, FileError> {
    let digests = hash_file(path, |_, _| {})?;
    inspect_file_with_digests(path, digests)
}

/// Inspects a file whose digests are already known (computed while it was received), so the
/// file is not hashed a second time.
pub fn inspect_file_with_digests(
    path: &Path,
    digests: ContentDigests,
) -> Result<Inspection, FileError> {
    let open = || {
        File::open(path).map_err(|source| FileError::Open {
            path: path.to_owned(),
            source,
        })
    };
    let mut head = Vec::with_capacity(16);
    open()?
        .take(16)
        .read_to_end(&mut head)
        .map_err(|source| FileError::Read {
            path: path.to_owned(),
            read: 0,
            source,
        })?;
    let media = MediaType::sniff(&head);
    let mut file = BufReader::new(open()?);
    Ok(describe(media, digests, &mut file))
}

/// Inspects bytes already in memory (a photo as the camera delivered it).
pub fn inspect_bytes(bytes: &[u8], digests: ContentDigests) -> Inspection {
    let media = MediaType::sniff(bytes);
    describe(media, digests, &mut Cursor::new(bytes))
}

fn describe<R: Read + Seek + std::io::BufRead>(
    media: MediaType,
    digests: ContentDigests,
    r: &mut R,
) -> Inspection {
    let MetadataReport {
        metadata,
        mut findings,
    } = metadata::read_metadata(media, r);
    let mut fp = None;
    if matches!(media, MediaType::Jpeg | MediaType::Png) {
        match r
            .seek(std::io::SeekFrom::Start(0))
            .map_err(|e| e.to_string())
            .and_then(|_| fingerprint::dhash(&mut *r).map_err(|e| e.to_string()))
        {
            Ok(f) => fp = Some(f),
            Err(e) => findings.push(Finding {
                code: "fingerprint_unavailable".into(),
                detail: e,
            }),
        }
    } else if media == MediaType::Heif {
        findings.push(Finding {
            code: "fingerprint_unavailable".into(),
            detail: "HEIF images are not decoded on this platform; exact hashes only".into(),
        });
    }
    if media == MediaType::Unknown {
        findings.push(Finding {
            code: "unknown_format".into(),
            detail: "not a recognised photo, video or audio format; hashed only".into(),
        });
    }
    Inspection {
        media,
        digests,
        metadata,
        fingerprint: fp,
        findings,
    }
}

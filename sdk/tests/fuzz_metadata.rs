//! Property-based fuzzing of the metadata readers (EXIF, XMP, MP4/MOV boxes, ISO 6709) and the
//! perceptual fingerprint on random bytes and on mutated real media: they must return findings,
//! never panic, and never allocate in proportion to sizes claimed by hostile headers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use tiezheng_protocol::DualHasher;
use tiezheng_sdk::inspect::inspect_bytes;
use tiezheng_sdk::media::MediaType;
use tiezheng_sdk::metadata::read_metadata;

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/corpus")
            .join(name),
    )
    .unwrap()
}

fn samples() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        [
            "photos/Canon_40D.jpg",
            "photos/DSCN0010.jpg",
            "video/bodycam_5s.mov",
            "video/interview_6s.m4a",
        ]
        .iter()
        .map(|n| corpus(n))
        .collect()
    })
}

fn inspect(bytes: &[u8]) {
    let mut h = DualHasher::new();
    h.update(bytes);
    let i = inspect_bytes(bytes, h.finalize());
    for f in &i.findings {
        assert!(!f.code.is_empty() && !f.detail.is_empty());
    }
}

/// An ISOBMFF box.
fn boxed(typ: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(typ);
    out.extend_from_slice(body);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_behind_every_magic(kind in 0usize..5, body in prop::collection::vec(any::<u8>(), 0..2048)) {
        let magic: &[u8] = [&b"\xff\xd8\xff\xe1"[..], b"\x89PNG\r\n\x1a\n", b"\0\0\0\x18ftypheic", b"\0\0\0\x14ftypqt  ", b"\0\0\0\x1cftypisom"][kind];
        let bytes = [magic, &body].concat();
        let _ = read_metadata(MediaType::sniff(&bytes), &mut Cursor::new(&bytes));
        inspect(&bytes);
    }

    #[test]
    fn mutated_real_media(sample in 0usize..4, flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12), cut in any::<prop::sample::Index>()) {
        let mut bytes = samples()[sample].clone();
        // Mutations concentrate on the header region where the parsers live.
        let head = bytes.len().min(70_000);
        for (i, v) in flips {
            let at = i.index(head);
            bytes[at] = v;
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep.max(head.min(bytes.len())).min(bytes.len()));
        inspect(&bytes);
    }

    #[test]
    fn hostile_mp4_user_data(text in "\\PC{0,60}", len in any::<u16>(), raw in prop::collection::vec(any::<u8>(), 0..64)) {
        // udta/©xyz with a random ISO 6709 string and a lying length, and a random loci body.
        let mut xyz = len.to_be_bytes().to_vec();
        xyz.extend_from_slice(&[0x15, 0xc7]);
        xyz.extend_from_slice(text.as_bytes());
        let udta = [boxed(b"\xa9xyz", &xyz), boxed(b"loci", &raw)].concat();
        let mvhd = boxed(b"mvhd", &raw);
        let moov = boxed(b"moov", &[mvhd, boxed(b"udta", &udta)].concat());
        let file = [boxed(b"ftyp", b"qt  \0\0\0\0"), moov].concat();
        let _ = read_metadata(MediaType::QuickTime, &mut Cursor::new(&file));
    }

    #[test]
    fn hostile_box_sizes(sizes in prop::collection::vec((any::<u32>(), 0usize..6), 1..20)) {
        let names: [&[u8; 4]; 6] = [b"moov", b"udta", b"meta", b"keys", b"ilst", b"mvhd"];
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0");
        for (size, name) in sizes {
            file.extend_from_slice(&size.to_be_bytes());
            file.extend_from_slice(names[name]);
        }
        let _ = read_metadata(MediaType::Mp4, &mut Cursor::new(&file));
    }
}

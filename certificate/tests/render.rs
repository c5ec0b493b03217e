//! Rendering the committed example certificate: the PDF carries exactly the signed certificate,
//! the same input gives the same bytes, one photo stays under the size budget, and text the
//! font lacks is replaced and reported, never a panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::path::PathBuf;

use tiezheng_protocol::certificate::{SignedCertificate, certificate_from_pdf};

fn example() -> SignedCertificate {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/examples/certificate.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A 1600×1200 photo made here (a gradient with a few shapes), as JPEG.
fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1600, 1200, |x, y| {
        let r = u8::try_from(x * 255 / 1600).unwrap();
        let g = u8::try_from(y * 255 / 1200).unwrap();
        let b = if (x / 200 + y / 200).is_multiple_of(2) {
            200
        } else {
            40
        };
        image::Rgb([r, g, b])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .unwrap();
    out
}

#[test]
fn the_pdf_attaches_the_certificate_and_is_reproducible_and_small() {
    let cert = example();
    let photo = photo();
    let a = tiezheng_certificate::render(&cert, Some(&photo)).unwrap();
    let b = tiezheng_certificate::render(&cert, Some(&photo)).unwrap();
    assert_eq!(a.pdf, b.pdf, "same certificate and photo, same bytes");
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert!(a.thumbnail_bytes > 0);
    let without_thumbnail = a.pdf.len() - a.thumbnail_bytes;
    assert!(
        without_thumbnail < 150 * 1024,
        "{} bytes without the thumbnail",
        without_thumbnail
    );
    assert!(a.pdf.starts_with(b"%PDF-1.7"));
    let attached = certificate_from_pdf(&a.pdf).unwrap();
    assert_eq!(attached, cert.to_bytes().unwrap());
    assert_eq!(a.attachment_sm3, cert.sm3().unwrap());
    if let Some(dir) = std::env::var_os("TIEZHENG_CERTIFICATE_OUT") {
        std::fs::write(PathBuf::from(dir).join("example-certificate.pdf"), &a.pdf).unwrap();
    }
}

#[test]
fn missing_glyphs_and_undecodable_photos_are_warnings() {
    let mut cert = example();
    cert.certificate.case.reference = "沪公(浦)〔2026〕𠀋号".into();
    let r = tiezheng_certificate::render(&cert, Some(b"not an image")).unwrap();
    assert_eq!(r.thumbnail_bytes, 0);
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    assert!(r.warnings[0].contains('𠀋'));
    assert!(r.warnings[1].contains("thumbnail"));
    // The attachment still holds the exact text (the signature no longer matches, which
    // is the verifier's business, not the renderer's).
    let attached = certificate_from_pdf(&r.pdf).unwrap();
    assert!(String::from_utf8(attached).unwrap().contains('𠀋'));
}

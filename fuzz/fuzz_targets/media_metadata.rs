//! The metadata readers of every file an officer imports (EXIF, XMP, ISOBMFF/HEIF boxes, PNG
//! chunks): the type sniffed from the bytes, then read as that type and as every other; never a
//! panic.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use tiezheng_sdk::media::MediaType;
use tiezheng_sdk::metadata::read_metadata;

fuzz_target!(|data: &[u8]| {
    let sniffed = MediaType::sniff(data);
    let _ = read_metadata(sniffed, &mut Cursor::new(data));
    for t in [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Heif,
        MediaType::Mp4,
    ] {
        let _ = read_metadata(t, &mut Cursor::new(data));
    }
});

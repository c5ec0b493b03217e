//! The photo's thumbnail on the certificate: decoded with limits against decompression bombs,
//! turned upright by its EXIF orientation, scaled down and encoded as a small JPEG (the same
//! photo always gives the same bytes).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder as _, ImageReader, Limits};

/// Longest side of the thumbnail, in pixels.
pub const THUMBNAIL_PIXELS: u32 = 240;

/// JPEG quality of the thumbnail.
const QUALITY: u8 = 70;

/// A JPEG thumbnail of `photo` (JPEG or PNG), or why there is none.
pub fn thumbnail_jpeg(photo: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = ImageReader::new(Cursor::new(photo))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    img.apply_orientation(orientation);
    let small = img.thumbnail(THUMBNAIL_PIXELS, THUMBNAIL_PIXELS).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&small)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

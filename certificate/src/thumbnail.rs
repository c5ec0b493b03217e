//! Thumbnails of evidence photos, for the certificate and for the appraiser's page: the one
//! place a photo is decoded. The header is read first and a photo of more than
//! [`MAX_DECODE_PIXELS`] gets no thumbnail (a decompression bomb of a few hundred kilobytes
//! would otherwise cost gigabytes); the decode is bounded again by the decoder's own limits,
//! turned upright by its EXIF orientation, scaled down and encoded (the same photo always gives
//! the same bytes).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder as _, ImageReader, Limits};

/// Longest side of the certificate's thumbnail, in pixels.
pub const THUMBNAIL_PIXELS: u32 = 240;

/// Largest photo decoded for a thumbnail, in pixels (50 megapixels: a phone's full-resolution
/// photo; larger ones are shown by their original only).
pub const MAX_DECODE_PIXELS: u64 = 50_000_000;

/// JPEG quality of the thumbnail.
const QUALITY: u8 = 70;

/// How a thumbnail is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// JPEG (in the certificate PDF).
    Jpeg,
    /// PNG (in the browser).
    Png,
}

/// The width and height a photo's header states, without decoding it.
pub fn dimensions(photo: &[u8]) -> Result<(u32, u32), String> {
    ImageReader::new(Cursor::new(photo))
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .into_dimensions()
        .map_err(|e| e.to_string())
}

/// Pixels of a photo of `(width, height)`.
pub fn pixels((w, h): (u32, u32)) -> u64 {
    u64::from(w) * u64::from(h)
}

/// A thumbnail of `photo` (JPEG or PNG) of at most `side` pixels a side, or why there is none.
pub fn thumbnail(photo: &[u8], side: u32, encoding: Encoding) -> Result<Vec<u8>, String> {
    let size = dimensions(photo)?;
    if pixels(size) > MAX_DECODE_PIXELS {
        return Err(format!(
            "the photo is {} × {} pixels, more than the {} megapixels decoded for a thumbnail",
            size.0,
            size.1,
            MAX_DECODE_PIXELS / 1_000_000
        ));
    }
    let mut reader = ImageReader::new(Cursor::new(photo))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(size.0);
    limits.max_image_height = Some(size.1);
    // Four bytes a pixel, with room for the decoder's own buffers.
    limits.max_alloc = Some(MAX_DECODE_PIXELS * 4 + 64 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    img.apply_orientation(orientation);
    let small = img.thumbnail(side, side).to_rgb8();
    drop(img);
    let mut out = Vec::new();
    match encoding {
        Encoding::Jpeg => image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
            .encode_image(&small)
            .map_err(|e| e.to_string())?,
        Encoding::Png => small
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .map_err(|e| e.to_string())?,
    }
    Ok(out)
}

/// The certificate's JPEG thumbnail of `photo`, or why there is none.
pub fn thumbnail_jpeg(photo: &[u8]) -> Result<Vec<u8>, String> {
    thumbnail(photo, THUMBNAIL_PIXELS, Encoding::Jpeg)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        // 13,000 × 13,000 pixels of one colour: a few hundred kilobytes as PNG.
        let img = image::GrayImage::new(13_000, 13_000);
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert!(png.len() < 2 * 1024 * 1024, "{}", png.len());
        assert_eq!(dimensions(&png).unwrap(), (13_000, 13_000));
        let why = thumbnail(&png, 320, Encoding::Png).unwrap_err();
        assert!(
            why.contains("13000 × 13000") && why.contains("50 megapixels"),
            "{why}"
        );

        let small = image::RgbImage::from_pixel(640, 480, image::Rgb([200, 10, 10]));
        let mut png = Vec::new();
        small
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let thumb = thumbnail(&png, 320, Encoding::Png).unwrap();
        assert_eq!(dimensions(&thumb).unwrap(), (320, 240));
        assert_eq!(
            thumb,
            thumbnail(&png, 320, Encoding::Png).unwrap(),
            "deterministic"
        );
        let jpeg = thumbnail_jpeg(&png).unwrap();
        assert_eq!(dimensions(&jpeg).unwrap(), (240, 180));
    }
}

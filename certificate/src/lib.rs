/*!
The certificate PDF: a PDF/A-3u rendering, tagged, in Chinese with English beside it, of a
notarised certificate
([`SignedCertificate`](tiezheng_protocol::certificate::SignedCertificate)), that carries the signed certificate itself as
an associated file (`AFRelationship /Source`), so that the PDF alone is verifiable.

The first page holds the key facts, the photo's thumbnail and a QR code that opens the
notary's verification page with the hashes in the URL fragment; it prints the SM3 of the
attached certificate so a reader can tie what they see to what is signed. Later pages hold the
details and how to verify. The embedded font is the repository's subset of Noto Sans CJK SC
(`fonts/`); characters it lacks are printed as `?` and reported in [`Rendered::warnings`].

The same certificate and photo always give the same bytes: the document identifier and
dates come from the certificate, and nothing else varies.
*/
#![forbid(unsafe_code)]

mod font;
mod layout;
pub mod thumbnail;

pub use font::{FONT_BYTES, REPLACEMENT};
pub use layout::{render, render_opinion};

/// Why a certificate could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The certificate cannot be serialised.
    #[error("the certificate cannot be serialised: {0}")]
    Certificate(String),
    /// The committed font file could not be read.
    #[error("the certificate font (certificate/fonts) could not be loaded")]
    Font,
    /// The verification URL is too long for a QR code.
    #[error("the QR code could not be made: {0}")]
    Qr(String),
    /// The PDF writer refused the document.
    #[error("PDF export failed: {0}")]
    Pdf(String),
}

/// A rendered certificate PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The PDF bytes.
    pub pdf: Vec<u8>,
    /// Things a reader should know (characters the font lacks, no thumbnail); the PDF is
    /// still complete and its attachment exact.
    pub warnings: Vec<String>,
    /// Bytes of the embedded thumbnail (0 when none): the PDF's size without it is what the
    /// size budget counts.
    pub thumbnail_bytes: usize,
    /// SM3 of the attached certificate (printed on the first page).
    pub attachment_sm3: tiezheng_protocol::Hash32,
}

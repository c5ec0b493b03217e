//! The certificate PDF.

//! Finding the files attached to a PDF, so that a certificate PDF can be verified from the
//! PDF alone (by `tiezheng verify`, and later in the browser).
//!
//! This is a deliberately small reader, not a PDF library: it looks for every indirect
//! object that is an embedded-file stream (`/Type /EmbeddedFile`), takes its bytes (by
//! `/Length` when it is a direct number or a plain indirect number, otherwise up to
//! `endstream`) and decodes `/FlateDecode` or unfiltered data. Streams are never inside
//! object streams, so this works on PDFs re-saved by other tools (incremental updates,
//! compressed cross-reference tables) as long as they are not encrypted. Nothing found is
//! trusted: the certificate it yields is verified by its SM2 signature like any other.

/// Why no attachment could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// The input does not start like a PDF.
    #[error("not a PDF file (no %PDF- header)")]
    NotPdf,
    /// The PDF is encrypted.
    #[error("the PDF is encrypted; save an unencrypted copy and verify that")]
    Encrypted,
    /// An embedded-file stream uses a filter this reader does not decode.
    #[error("an attached file uses the {0} filter, which is not supported (only FlateDecode)")]
    Filter(String),
    /// An embedded-file stream's data could not be inflated.
    #[error("an attached file's compressed data is damaged: {0}")]
    Inflate(String),
}

/// Largest attachment this reader inflates.
pub const MAX_ATTACHMENT_BYTES: usize = 256 * 1024 * 1024;

/// Longest object dictionary this reader looks into.
const MAX_DICT_BYTES: usize = 16 * 1024;

/// The decoded bytes of every embedded-file stream in `pdf`, in file order.
pub fn attached_files(pdf: &[u8]) -> Result<Vec<Vec<u8>>, PdfError> {
    if !pdf
        .get(..1024)
        .unwrap_or(pdf)
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        return Err(PdfError::NotPdf);
    }
    if contains_key(pdf, b"/Encrypt") {
        return Err(PdfError::Encrypted);
    }
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(pos) = find(pdf, b"obj", at) {
        at = pos + 3;
        if !is_object_header(pdf, pos) {
            continue;
        }
        let mut p = skip_ws(pdf, at);
        if !pdf.get(p..).is_some_and(|r| r.starts_with(b"<<")) {
            continue;
        }
        let Some(dict_end) = dict_end(pdf, p) else {
            continue;
        };
        let dict = pdf.get(p..dict_end).unwrap_or_default();
        p = skip_ws(pdf, dict_end);
        if !pdf.get(p..).is_some_and(|r| r.starts_with(b"stream")) {
            continue;
        }
        let tokens = top_level(dict);
        if value_of(&tokens, "Type") != Some(Token::Name("EmbeddedFile".into())) {
            continue;
        }
        p += 6;
        if pdf.get(p) == Some(&b'\r') {
            p += 1;
        }
        if pdf.get(p) == Some(&b'\n') {
            p += 1;
        }
        let data = stream_data(pdf, p, &tokens);
        at = p + data.len();
        out.push(decode(data, &tokens)?);
    }
    Ok(out)
}

fn stream_data<'a>(pdf: &'a [u8], start: usize, tokens: &[Token]) -> &'a [u8] {
    let length = match value_at(tokens, "Length") {
        Some((Token::Int(n), rest)) => match rest.as_slice() {
            [Token::Int(g), Token::Keyword(r), ..] if r == "R" => indirect_int(pdf, n, *g),
            _ => Some(n),
        },
        _ => None,
    };
    if let Some(n) = length.and_then(|n| usize::try_from(n).ok())
        && let Some(data) = pdf.get(start..start.saturating_add(n))
    {
        let after = skip_ws(pdf, start + n);
        if pdf
            .get(after..)
            .is_some_and(|r| r.starts_with(b"endstream"))
        {
            return data;
        }
    }
    let end = find(pdf, b"endstream", start).unwrap_or(pdf.len());
    let mut data = pdf.get(start..end).unwrap_or_default();
    if data.ends_with(b"\n") {
        data = data.get(..data.len() - 1).unwrap_or_default();
    }
    if data.ends_with(b"\r") {
        data = data.get(..data.len() - 1).unwrap_or_default();
    }
    data
}

fn decode(data: &[u8], tokens: &[Token]) -> Result<Vec<u8>, PdfError> {
    let filters: Vec<String> = match value_at(tokens, "Filter") {
        None => Vec::new(),
        Some((Token::Name(n), _)) => vec![n],
        Some((Token::ArrayStart, rest)) => rest
            .iter()
            .take_while(|t| **t != Token::ArrayEnd)
            .filter_map(|t| match t {
                Token::Name(n) => Some(n.clone()),
                _ => None,
            })
            .collect(),
        Some((other, _)) => return Err(PdfError::Filter(format!("{other:?}"))),
    };
    let mut bytes = data.to_vec();
    for f in filters {
        if f != "FlateDecode" {
            return Err(PdfError::Filter(f));
        }
        bytes =
            miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&bytes, MAX_ATTACHMENT_BYTES)
                .map_err(|e| PdfError::Inflate(format!("{:?}", e.status)))?;
    }
    Ok(bytes)
}

/// The integer object `n g obj <int> endobj`, when it is a plain indirect object.
fn indirect_int(pdf: &[u8], n: i64, g: i64) -> Option<i64> {
    let header = format!("{n} {g} obj");
    let mut at = 0;
    while let Some(pos) = find(pdf, header.as_bytes(), at) {
        at = pos + 1;
        if pos > 0 && pdf.get(pos - 1).is_some_and(u8::is_ascii_digit) {
            continue;
        }
        let p = skip_ws(pdf, pos + header.len());
        let digits: Vec<u8> = pdf
            .get(p..)?
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .copied()
            .collect();
        return std::str::from_utf8(&digits).ok()?.parse().ok();
    }
    None
}

/// Whether `obj` at `pos` ends an object header `N G obj`.
fn is_object_header(pdf: &[u8], pos: usize) -> bool {
    let after = pdf.get(pos + 3).copied();
    if after.is_some_and(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let before = pdf.get(..pos).unwrap_or_default();
    let mut i = before.len();
    let mut parts = 0;
    while parts < 2 {
        let end = i;
        while i > 0 && before.get(i - 1).is_some_and(|b| is_ws(*b)) {
            i -= 1;
        }
        if i == end {
            return false;
        }
        let d = i;
        while i > 0 && before.get(i - 1).is_some_and(u8::is_ascii_digit) {
            i -= 1;
        }
        if i == d {
            return false;
        }
        parts += 1;
    }
    true
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | b'\0')
}

fn skip_ws(pdf: &[u8], mut p: usize) -> usize {
    loop {
        match pdf.get(p) {
            Some(b) if is_ws(*b) => p += 1,
            Some(b'%') => {
                while pdf.get(p).is_some_and(|b| *b != b'\n' && *b != b'\r') {
                    p += 1;
                }
            }
            _ => return p,
        }
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn contains_key(pdf: &[u8], key: &[u8]) -> bool {
    let mut at = 0;
    while let Some(p) = find(pdf, key, at) {
        at = p + 1;
        if !pdf
            .get(p + key.len())
            .is_some_and(|b| b.is_ascii_alphanumeric())
        {
            return true;
        }
    }
    false
}

/// The end (exclusive) of the dictionary starting at `start` (`<<`), skipping strings.
fn dict_end(pdf: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut p = start;
    // Embedded-file dictionaries are small: a longer or unterminated one is not one, and
    // giving up early keeps hostile input (many unclosed dictionaries) linear.
    let end = pdf.len().min(start.saturating_add(MAX_DICT_BYTES));
    while p < end {
        if pdf.get(p..).is_some_and(|r| r.starts_with(b"endobj")) {
            return None;
        }
        match (pdf.get(p), pdf.get(p + 1)) {
            (Some(b'<'), Some(b'<')) => {
                depth += 1;
                p += 2;
            }
            (Some(b'>'), Some(b'>')) => {
                depth = depth.checked_sub(1)?;
                p += 2;
                if depth == 0 {
                    return Some(p);
                }
            }
            (Some(b'('), _) => p = string_end(pdf, p)?,
            (Some(b'<'), _) => p = find(pdf, b">", p)? + 1,
            (Some(b'%'), _) => p = skip_ws(pdf, p),
            _ => p += 1,
        }
    }
    None
}

fn string_end(pdf: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut p = start;
    while let Some(b) = pdf.get(p) {
        match b {
            b'\\' => p += 1,
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(p + 1);
                }
            }
            _ => {}
        }
        p += 1;
    }
    None
}

/// A token of a dictionary's top level (nested dictionaries and strings are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Name(String),
    Int(i64),
    Keyword(String),
    ArrayStart,
    ArrayEnd,
    Other,
}

fn top_level(dict: &[u8]) -> Vec<Token> {
    let inner = dict
        .get(2..dict.len().saturating_sub(2))
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut p = 0;
    while p < inner.len() {
        let Some(&b) = inner.get(p) else { break };
        match b {
            _ if is_ws(b) => p += 1,
            b'/' => {
                let start = p + 1;
                p = start;
                while inner
                    .get(p)
                    .is_some_and(|c| !is_ws(*c) && !b"/<>[]()".contains(c))
                {
                    p += 1;
                }
                let name = String::from_utf8_lossy(inner.get(start..p).unwrap_or_default());
                out.push(Token::Name(name.into_owned()));
            }
            b'[' => {
                out.push(Token::ArrayStart);
                p += 1;
            }
            b']' => {
                out.push(Token::ArrayEnd);
                p += 1;
            }
            b'<' if inner.get(p + 1) == Some(&b'<') => {
                let end = dict_end(inner, p).unwrap_or(inner.len());
                out.push(Token::Other);
                p = end;
            }
            b'<' => {
                p = find(inner, b">", p).map_or(inner.len(), |e| e + 1);
                out.push(Token::Other);
            }
            b'(' => {
                p = string_end(inner, p).unwrap_or(inner.len());
                out.push(Token::Other);
            }
            _ => {
                let start = p;
                while inner
                    .get(p)
                    .is_some_and(|c| !is_ws(*c) && !b"/<>[]()".contains(c))
                {
                    p += 1;
                }
                if p == start {
                    p += 1;
                    continue;
                }
                let word = String::from_utf8_lossy(inner.get(start..p).unwrap_or_default());
                out.push(match word.parse::<i64>() {
                    Ok(n) => Token::Int(n),
                    Err(_) => Token::Keyword(word.into_owned()),
                });
            }
        }
    }
    out
}

/// The value after key `/key` (first token) with the tokens that follow it.
fn value_at(tokens: &[Token], key: &str) -> Option<(Token, Vec<Token>)> {
    let mut i = 0;
    while i + 1 < tokens.len() {
        if tokens.get(i) == Some(&Token::Name(key.to_owned())) {
            let v = tokens.get(i + 1)?.clone();
            let rest = tokens.get(i + 2..).unwrap_or_default().to_vec();
            return Some((v, rest));
        }
        i += 1;
    }
    None
}

fn value_of(tokens: &[Token], key: &str) -> Option<Token> {
    value_at(tokens, key).map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
    }

    #[test]
    fn finds_flate_and_plain_attachments_with_direct_and_indirect_lengths() {
        let z = zlib(b"{\"a\":1}");
        let mut pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
        pdf.extend_from_slice(
            format!(
                "4 0 obj\n<</Type/EmbeddedFile/Subtype/application#2Fjson/Filter/FlateDecode/Length {}/Params<</Size 7>>>>\nstream\n",
                z.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&z);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        pdf.extend_from_slice(
            b"5 0 obj <</Length 6 0 R /Type /EmbeddedFile>> stream\r\nplain endstream text\r\nendstream endobj 6 0 obj 20 endobj\n",
        );
        let files = attached_files(&pdf).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0], b"{\"a\":1}");
        assert_eq!(files[1], b"plain endstream text");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(attached_files(b"hello"), Err(PdfError::NotPdf));
        assert_eq!(
            attached_files(b"%PDF-1.7 trailer << /Encrypt 3 0 R >>"),
            Err(PdfError::Encrypted)
        );
        let pdf = b"%PDF-1.7\n1 0 obj <</Type/EmbeddedFile/Filter/LZWDecode/Length 3>> stream\nabc\nendstream endobj";
        assert_eq!(
            attached_files(pdf),
            Err(PdfError::Filter("LZWDecode".into()))
        );
        let pdf = b"%PDF-1.7\n1 0 obj <</Type/EmbeddedFile/Filter/FlateDecode/Length 3>> stream\nabc\nendstream endobj";
        assert!(matches!(attached_files(pdf), Err(PdfError::Inflate(_))));
        // Truncated or hostile structures end the search without panicking.
        for bad in [
            &b"%PDF-1.7\n1 0 obj <</Type/EmbeddedFile/Length 99999999999999999999>> stream\nab"[..],
            b"%PDF-1.7\n1 0 obj << (((( >> stream",
            b"%PDF-1.7 obj obj 0 obj <<<<<<",
        ] {
            let _ = attached_files(bad);
        }
    }
}

//! The converter for borrowed byte arguments (`&[u8]`: `capture_photo`, `Recording::write`,
//! `hash_bytes`), replaced in the generated Kotlin and Python after UniFFI has written them.
//!
//! UniFFI 0.32.2's stock Kotlin converter passes a direct `ByteBuffer`'s base address with
//! `remaining()` as the length: it ignores `position`, so a camera or `MediaCodec` buffer with an
//! offset is hashed and stored wrongly, with no error; and it throws `IllegalArgumentException`
//! for heap buffers. Its Python converter accepts `bytes` only. UniFFI has no hook for this
//! converter, and every other way round it leaves the generated member functions (which an app
//! calls first) as they are; so the converter itself is replaced, here, where both
//! `bindings/scripts/generate.sh` and the Android Gradle build generate the bindings — the fix
//! cannot be lost on regeneration. The stock text is recognised structurally (not byte for
//! byte, so ktlint formatting does not defeat it) and generation fails if it cannot be found.
//!
//! What the replacement does (zero-copy wherever the runtime allows it):
//!
//! - Kotlin: Rust borrows exactly the bytes between the buffer's `position` and `limit`. A
//!   direct buffer, read-only or not, is read in place at its address plus `position`; a heap
//!   buffer (`ByteBuffer.wrap`, `asReadOnlyBuffer`) — which the JVM cannot pin for native
//!   code — is copied once into native memory that lives as long as the call. The buffer is
//!   not modified: position, limit and mark stay where they were (the call takes all the bytes
//!   or fails, so there is no partial progress to report, and a failed capture can be retried
//!   with the same buffer).
//! - Python: any bytes-like object (`bytes`, `bytearray`, `memoryview` and its slices,
//!   `array.array`); `bytes` and writable contiguous buffers are read in place, other buffers
//!   (read-only or strided views) are copied once.

use crate::text::matching_brace;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Marks a converter that has been replaced (patching is idempotent).
const MARKER: &str = "Tiezheng: position-aware byte converter";

const KOTLIN_OBJECT: &str = "object FfiConverterByRefBytes";
const PYTHON_CLASS: &str = "class _UniffiFfiConverterByRefBytes:";

const KOTLIN_CONVERTER: &str = r#"// Converter for `&[u8]` arguments. Tiezheng: position-aware byte converter, written by
// the workspace's uniffi-bindgen (bindings/uniffi-bindgen/src/byte_buffers.rs) in place of
// UniFFI's, which ignored `position` and refused heap buffers.
//
// Rust borrows exactly the bytes between the buffer's `position` and `limit`:
// - a direct buffer (read-only or not) is read in place, zero-copy, at its address plus
//   `position`;
// - a heap buffer (`ByteBuffer.wrap`, `asReadOnlyBuffer`), which the JVM cannot pin for native
//   code, is copied once into native memory referenced by the argument for the whole call.
// The buffer is not modified: position, limit and mark are as they were.
//
// Only `lower` is valid: borrowed bytes flow foreign -> Rust, in argument position only.
internal object FfiConverterByRefBytes : FfiConverter<java.nio.ByteBuffer, ForeignBytes.ByValue> {
    override fun lower(value: java.nio.ByteBuffer): ForeignBytes.ByValue {
        val fb = ForeignBytes.ByValue()
        val remaining = value.remaining()
        fb.len = remaining
        if (remaining == 0) {
            // (null, 0) is `&[]` on the Rust side.
            fb.data = null
            return fb
        }
        val base = if (value.isDirect) {
            try {
                com.sun.jna.Native.getDirectBufferPointer(value)
            } catch (e: IllegalArgumentException) {
                null // a direct buffer without an accessible address: copied below
            }
        } else {
            null
        }
        fb.data = if (base != null) {
            base.share(value.position().toLong())
        } else {
            com.sun.jna.Memory(remaining.toLong()).also {
                it.getByteBuffer(0, remaining.toLong()).put(value.duplicate())
            }
        }
        return fb
    }

    override fun lift(value: ForeignBytes.ByValue): java.nio.ByteBuffer =
        error("ByRef bytes cannot be lifted: zero-copy &[u8] only flows foreign->Rust")

    override fun read(buf: java.nio.ByteBuffer): java.nio.ByteBuffer =
        error("ByRef bytes cannot be read from a buffer: zero-copy &[u8] is only supported in argument position, not nested in records/options/etc.")

    override fun write(value: java.nio.ByteBuffer, buf: java.nio.ByteBuffer): Unit =
        error("ByRef bytes cannot be written to a buffer: zero-copy &[u8] is only supported in argument position, not nested in records/options/etc.")

    override fun allocationSize(value: java.nio.ByteBuffer): ULong =
        error("ByRef bytes have no RustBuffer allocation size: zero-copy &[u8] is only supported in argument position, not nested in records/options/etc.")
}"#;

const PYTHON_CONVERTER: &str = r#"class _UniffiFfiConverterByRefBytes:
    """Converter for `&[u8]` arguments. Tiezheng: position-aware byte converter, written by
    the workspace's uniffi-bindgen (bindings/uniffi-bindgen/src/byte_buffers.rs) in place of
    UniFFI's, which accepted `bytes` only.

    Takes any bytes-like object (`bytes`, `bytearray`, `memoryview` and its slices,
    `array.array`); Rust borrows exactly the bytes it exposes. `bytes` and writable contiguous
    buffers are read in place (zero-copy); other buffers (read-only or strided views) are
    copied once. The object is not modified; the lowered argument keeps it (or its copy)
    alive for the call.

    Only `lower` and `check_lower` are valid: borrowed bytes flow foreign -> Rust, in argument
    position only.
    """

    @staticmethod
    def check_lower(value):
        try:
            memoryview(value)
        except TypeError:
            raise TypeError("a bytes-like object is required, not {!r}".format(type(value).__name__)) from None

    @staticmethod
    def lower(value):
        fb = _UniffiForeignBytes()
        if isinstance(value, bytes):
            keep = value
            size = len(value)
        else:
            view = memoryview(value)
            size = view.nbytes
            if size == 0:
                keep = b""
            elif not view.readonly and view.c_contiguous:
                keep = (ctypes.c_char * size).from_buffer(view)
            else:
                keep = view.tobytes()
        if size > 0x7FFFFFFF:
            raise OverflowError("{} bytes is more than one call can borrow".format(size))
        fb.len = size
        if size == 0:
            fb.data = None
        elif isinstance(keep, bytes):
            fb.data = ctypes.cast(ctypes.c_char_p(keep), ctypes.POINTER(ctypes.c_char))
        else:
            fb.data = ctypes.cast(keep, ctypes.POINTER(ctypes.c_char))
        fb._uniffi_keepalive = keep
        return fb

    @staticmethod
    def lift(value):
        raise NotImplementedError("ByRef bytes cannot be lifted: zero-copy &[u8] only flows foreign->Rust")

    @staticmethod
    def read(buf):
        raise NotImplementedError("ByRef bytes cannot be read from a buffer: zero-copy &[u8] is only supported in argument position, not nested in records/options/etc.")

    @staticmethod
    def write(value, buf):
        raise NotImplementedError("ByRef bytes cannot be written to a buffer: zero-copy &[u8] is only supported in argument position, not nested in records/options/etc.")
"#;

/// Replaces a generated file's byte converter.
type Patch = fn(&str) -> Result<Option<String>, PatchError>;
/// Words a generated file's error messages.
type MessagesPatch = fn(&str) -> Option<String>;

/// Why a generated file could not be patched.
#[derive(Debug)]
pub(crate) struct PatchError(String);

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The output directory of a `generate` command line (arguments after the program name), or
/// `None` for other commands.
pub(crate) fn generate_out_dir(args: &[String]) -> Option<PathBuf> {
    if args.first().map(String::as_str) != Some("generate") {
        return None;
    }
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--out-dir" || a == "-o" {
            return it.next().map(PathBuf::from);
        }
        if let Some(dir) = a.strip_prefix("--out-dir=") {
            return Some(PathBuf::from(dir));
        }
        if let Some(dir) = a.strip_prefix("-o").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir.strip_prefix('=').unwrap_or(dir)));
        }
    }
    None
}

/// Replaces the byte converter in every generated Kotlin (`.kt`) and Python (`.py`) file under
/// `dir`; returns the files changed.
pub(crate) fn patch_dir(dir: &Path) -> Result<Vec<PathBuf>, PatchError> {
    let mut changed = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            fs::read_dir(&d).map_err(|e| PatchError(format!("reading {}: {e}", d.display())))?;
        for entry in entries {
            let path = entry
                .map_err(|e| PatchError(format!("reading {}: {e}", d.display())))?
                .path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let (patch, messages): (Patch, MessagesPatch) =
                match path.extension().and_then(|e| e.to_str()) {
                    Some("kt") => (patch_kotlin, crate::messages::patch_kotlin),
                    Some("py") => (patch_python, crate::messages::patch_python),
                    _ => continue,
                };
            let text = fs::read_to_string(&path)
                .map_err(|e| PatchError(format!("reading {}: {e}", path.display())))?;
            let patched =
                patch(&text).map_err(|e| PatchError(format!("{}: {e}", path.display())))?;
            let patched = match patched {
                Some(p) => Some(messages(&p).unwrap_or(p)),
                None => messages(&text),
            };
            if let Some(patched) = patched {
                fs::write(&path, patched)
                    .map_err(|e| PatchError(format!("writing {}: {e}", path.display())))?;
                changed.push(path);
            }
        }
    }
    Ok(changed)
}

/// The Kotlin file with its byte converter replaced; `None` when there is nothing to replace
/// (no converter, or already replaced).
pub(crate) fn patch_kotlin(text: &str) -> Result<Option<String>, PatchError> {
    if text.contains(MARKER) {
        return Ok(None);
    }
    let Some(object) = text.find(KOTLIN_OBJECT) else {
        return Ok(None);
    };
    // The declaration starts at its line (`internal object …`), preceded by its comment block.
    let line = line_start(text, object);
    let start = comment_block_start(text, line, "//");
    let open = text
        .get(object..)
        .and_then(|s| s.find('{'))
        .map(|i| object + i)
        .ok_or_else(|| PatchError("FfiConverterByRefBytes has no body".into()))?;
    let close = matching_brace(text, open)
        .ok_or_else(|| PatchError("FfiConverterByRefBytes's body is not closed".into()))?;
    let stock = text.get(start..=close).unwrap_or_default();
    if !stock.contains("getDirectBufferPointer") || !stock.contains("fun lower(") {
        return Err(PatchError(
            "FfiConverterByRefBytes is not UniFFI's stock converter: check the UniFFI version"
                .into(),
        ));
    }
    Ok(Some(splice(text, start, close + 1, KOTLIN_CONVERTER)))
}

/// The Python module with its byte converter replaced; `None` when there is nothing to replace.
pub(crate) fn patch_python(text: &str) -> Result<Option<String>, PatchError> {
    if text.contains(MARKER) {
        return Ok(None);
    }
    let Some(start) = text.find(PYTHON_CLASS) else {
        return Ok(None);
    };
    // The class ends before the next line that starts at column 0.
    let body = start + PYTHON_CLASS.len();
    let mut end = text.len();
    let mut at = body;
    for l in text.get(body..).unwrap_or_default().split_inclusive('\n') {
        if at > body && !l.trim().is_empty() && !l.starts_with([' ', '\t']) {
            end = at;
            break;
        }
        at += l.len();
    }
    let stock = text.get(start..end).unwrap_or_default();
    if !stock.contains("def lower(") || !stock.contains("c_char_p") {
        return Err(PatchError(
            "_UniffiFfiConverterByRefBytes is not UniFFI's stock converter: check the UniFFI \
             version"
                .into(),
        ));
    }
    Ok(Some(splice(
        text,
        start,
        end,
        &format!("{PYTHON_CONVERTER}\n\n"),
    )))
}

fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(text.get(..start).unwrap_or_default());
    out.push_str(with);
    out.push_str(text.get(end..).unwrap_or_default());
    out
}

fn line_start(text: &str, at: usize) -> usize {
    text.get(..at)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1)
}

/// Where the run of comment lines (`prefix`) directly above the line at `line` begins.
fn comment_block_start(text: &str, line: usize, prefix: &str) -> usize {
    let mut start = line;
    while start > 0 {
        let prev = line_start(text, start - 1);
        if !text
            .get(prev..start)
            .unwrap_or_default()
            .trim_start()
            .starts_with(prefix)
        {
            break;
        }
        start = prev;
    }
    start
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const STOCK_KOTLIN: &str = r#"class ForeignBytes
// Converter for `&[u8]` / `[ByRef] bytes` arguments.
//
// The provided `ByteBuffer` MUST be direct.
internal object FfiConverterByRefBytes : FfiConverter<java.nio.ByteBuffer, ForeignBytes.ByValue> {
    override fun lower(value: java.nio.ByteBuffer): ForeignBytes.ByValue {
        require(value.isDirect) { "UniFFI zero-copy &[u8] requires a direct ByteBuffer. Use ByteBuffer.allocateDirect()." }
        val fb = ForeignBytes.ByValue()
        fb.data = if (value.remaining() == 0) null else com.sun.jna.Native.getDirectBufferPointer(value)
        return fb
    }

    override fun lift(value: ForeignBytes.ByValue): java.nio.ByteBuffer =
        error("ByRef bytes cannot be lifted: \"}\" only flows foreign->Rust")
}
/**
 * The FfiConverter interface
 */
"#;

    const STOCK_PYTHON: &str = r#"class _UniffiForeignBytes(ctypes.Structure):
    pass


class _UniffiFfiConverterByRefBytes:
    """Zero-copy converter."""

    @staticmethod
    def lower(value):
        fb = _UniffiForeignBytes()
        fb.data = ctypes.cast(ctypes.c_char_p(value), ctypes.POINTER(ctypes.c_char))
        return fb

    @staticmethod
    def write(value, buf):
        raise NotImplementedError("no")


class _UniffiRustBufferStream:
    pass
"#;

    #[test]
    fn kotlin_converter_is_replaced_with_its_comment_and_nothing_else() {
        let out = patch_kotlin(STOCK_KOTLIN).unwrap().unwrap();
        assert!(out.starts_with("class ForeignBytes\n// Converter for `&[u8]` arguments."));
        assert!(out.contains("base.share(value.position().toLong())"));
        assert!(!out.contains("MUST be direct"));
        assert!(!out.contains("require(value.isDirect)"));
        assert!(out.ends_with("}\n/**\n * The FfiConverter interface\n */\n"));
        assert_eq!(patch_kotlin(&out).unwrap(), None, "idempotent");
    }

    #[test]
    fn python_converter_is_replaced_up_to_the_next_class() {
        let out = patch_python(STOCK_PYTHON).unwrap().unwrap();
        assert!(out.contains("view = memoryview(value)"));
        assert!(!out.contains("Zero-copy converter."));
        assert!(out.contains("\n\n\nclass _UniffiRustBufferStream:\n"));
        assert!(out.starts_with("class _UniffiForeignBytes"));
        assert_eq!(patch_python(&out).unwrap(), None, "idempotent");
    }

    #[test]
    fn an_unknown_converter_fails_generation() {
        let changed = STOCK_KOTLIN.replace("getDirectBufferPointer", "somethingElse");
        assert!(patch_kotlin(&changed).is_err());
        assert_eq!(patch_kotlin("class Unrelated").unwrap(), None);
    }

    #[test]
    fn out_dir_is_found_in_every_spelling() {
        let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        for cmd in [
            "generate --library x.so --language kotlin --out-dir /o",
            "generate -l python -o /o x.so",
            "generate --out-dir=/o x.so",
            "generate -o/o x.so",
        ] {
            assert_eq!(
                generate_out_dir(&args(cmd)),
                Some(PathBuf::from("/o")),
                "{cmd}"
            );
        }
        assert_eq!(generate_out_dir(&args("scaffolding -o /o x.udl")), None);
    }
}

//! Every error crosses the boundary with its message. UniFFI gives a Kotlin exception of a
//! variant without fields an empty `message`, and a Python one an empty `str()`; the generated
//! code is patched so that both (and Swift's `localizedDescription`) come from the SDK's own
//! wording through the exported `error_message` function.

/// Marks a patched file.
const MARKER: &str = "tiezheng: error messages from the SDK";

/// The Kotlin file with every `TiezhengException` variant's `message` from `errorMessage`;
/// `None` when there is nothing to patch.
pub(crate) fn patch_kotlin(text: &str) -> Option<String> {
    if text.contains(MARKER) {
        return None;
    }
    let start = text.find("sealed class TiezhengException")?;
    let open = start + text.get(start..)?.find('{')?;
    let close = crate::text::matching_brace(text, open)?;
    let body = text.get(open..close)?;
    let mut patched = String::with_capacity(body.len());
    let mut lines = body.split_inclusive('\n').peekable();
    let mut changed = false;
    while let Some(line) = lines.next() {
        patched.push_str(line);
        if line.trim() == "override val message"
            && let Some(getter) = lines.next()
        {
            let indent = getter
                .get(..getter.len() - getter.trim_start().len())
                .unwrap_or_default();
            patched.push_str(&format!("{indent}get() = errorMessage(this)\n"));
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(text.get(..open)?);
    out.push_str(&format!("{{ // {MARKER}"));
    out.push_str(patched.get(1..)?);
    out.push_str(text.get(close..)?);
    Some(out)
}

/// The Python module with `str()` of every `TiezhengError` from `error_message`.
pub(crate) fn patch_python(text: &str) -> Option<String> {
    if text.contains(MARKER) || !text.contains("\ndef error_message(") {
        return None;
    }
    text.contains("\nTiezhengError = _UniffiTempTiezhengError").then(|| {
        format!(
            "{text}\n\n# {MARKER}\nTiezhengError.__str__ = lambda self: error_message(self)  # type: ignore\n"
        )
    })
}

/// The Swift file with `TiezhengError`'s `errorDescription` (UniFFI: `String(reflecting:)`, the
/// case name) from `errorMessage`.
#[allow(dead_code)] // used by `uniffi-bindgen-swift` only
pub(crate) fn patch_swift(text: &str) -> Option<String> {
    if text.contains(MARKER) || !text.contains("func errorMessage(error: TiezhengError)") {
        return None;
    }
    let start = text.find("enum TiezhengError:")?;
    let getter = start
        + text
            .get(start..)?
            .find("public var errorDescription: String? {")?;
    let stock = getter + text.get(getter..)?.find("String(reflecting: self)")?;
    // Only within the error's own declaration.
    if text.get(start..stock)?.contains("\n}\n") {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(text.get(..stock)?);
    out.push_str(&format!("errorMessage(error: self) // {MARKER}"));
    out.push_str(text.get(stock + "String(reflecting: self)".len()..)?);
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_message_comes_from_the_sdk() {
        let kt = "sealed class TiezhengException: kotlin.Exception() {\n    class KeyLocked(\n        ) : TiezhengException() {\n        override val message\n            get() = \"\"\n    }\n    class WrongUnlock(val a: UInt) : TiezhengException() {\n        override val message\n            get() = \"a=${ a }\"\n    }\n}\nfun errorMessage(e: TiezhengException): String = TODO()\n";
        let out = patch_kotlin(kt).unwrap();
        assert_eq!(
            out.matches("get() = errorMessage(this)").count(),
            2,
            "{out}"
        );
        assert!(!out.contains("get() = \"\""), "{out}");
        assert!(patch_kotlin(&out).is_none(), "patched once");
        let py = "class X: pass\nTiezhengError = _UniffiTempTiezhengError # type: ignore\n\ndef error_message(error):\n    pass\n";
        let out = patch_python(py).unwrap();
        assert!(out.ends_with(
            "TiezhengError.__str__ = lambda self: error_message(self)  # type: ignore\n"
        ));
        assert!(patch_python(&out).is_none());
        let swift = "public\nenum TiezhengError: Swift.Error, Foundation.LocalizedError {\n    case keyLocked\n    public var errorDescription: String? {\n        String(reflecting: self)\n    }\n}\npublic func errorMessage(error: TiezhengError) -> String { \"\" }\n";
        let out = patch_swift(swift).unwrap();
        assert!(
            out.contains("        errorMessage(error: self) // tiezheng"),
            "{out}"
        );
        assert!(patch_swift(&out).is_none());
    }
}

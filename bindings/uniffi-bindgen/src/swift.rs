//! `uniffi-bindgen-swift`: generates Swift sources, C headers and an XCFramework-ready
//! modulemap at the workspace's pinned UniFFI version (see bindings/scripts/build-xcframework.sh),
//! then makes `TiezhengError` a `LocalizedError` worded by the SDK ([`messages`]).

// Shared with `uniffi-bindgen`; only the Swift patch is used here.
#[allow(dead_code)]
mod messages;
#[allow(dead_code)]
mod text;

use std::process::ExitCode;

fn main() -> ExitCode {
    uniffi::uniffi_bindgen_swift();
    // The output folder is the last argument.
    let Some(out) = std::env::args()
        .skip(1)
        .last()
        .map(std::path::PathBuf::from)
    else {
        return ExitCode::SUCCESS;
    };
    let Ok(entries) = std::fs::read_dir(&out) else {
        return ExitCode::SUCCESS;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().and_then(|e| e.to_str()) != Some("swift") {
            continue;
        }
        let patched = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| messages::patch_swift(&text));
        if let Some(patched) = patched
            && let Err(e) = std::fs::write(&path, patched)
        {
            #[allow(clippy::print_stderr)] // the command line's own error report
            {
                eprintln!("uniffi-bindgen-swift: writing {}: {e}", path.display());
            }
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

//! `uniffi-bindgen`: the UniFFI binding generator at exactly the UniFFI version the FFI crate
//! is built with (a mismatch produces bindings that fail their checksum at load time).
//!
//! After `generate`, the converter for borrowed byte arguments in the generated Kotlin and
//! Python is replaced by a position-aware one ([`byte_buffers`]), so that every way of
//! generating the bindings (`bindings/scripts/generate.sh`, the Android Gradle build) gets it;
//! and every error's message comes from the SDK ([`messages`]).

mod byte_buffers;
mod messages;
mod text;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Exits the process on a generation error.
    uniffi::uniffi_bindgen_main();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out_dir) = byte_buffers::generate_out_dir(&args) else {
        return ExitCode::SUCCESS;
    };
    match byte_buffers::patch_dir(&out_dir) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)] // the command line's own error report
            {
                eprintln!("uniffi-bindgen: replacing the byte-buffer converter: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

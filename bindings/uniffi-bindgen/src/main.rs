//! `uniffi-bindgen`: the UniFFI binding generator at exactly the UniFFI version the FFI crate
//! is built with (a mismatch produces bindings that fail their checksum at load time).

fn main() {
    uniffi::uniffi_bindgen_main()
}

//! `uniffi-bindgen-swift`: generates Swift sources, C headers and an XCFramework-ready
//! modulemap at the workspace's pinned UniFFI version (see bindings/scripts/build-xcframework.sh).

fn main() {
    uniffi::uniffi_bindgen_swift()
}

//! The protocol's own PDF reader (also compiled to WebAssembly for the browser): the attached
//! files of any input, or a typed error; never a panic, and no unbounded work.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tiezheng_protocol::pdf::attached_files(data);
});

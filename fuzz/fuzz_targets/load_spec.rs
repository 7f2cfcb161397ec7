//! The spec loader must turn any bytes into a spec or diagnostics, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    blueprint_spec::fuzz_one(data);
});

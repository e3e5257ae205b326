//! Format A: any bytes as a `.txt` corpus file.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(
    // Load the gazetteer and build the tagger before the first input.
    init: {
        common::tagger();
    },
    |data: &[u8]| {
    common::check_file(data, "fuzz/a.txt", frontline::corpus::Format::Text);
});

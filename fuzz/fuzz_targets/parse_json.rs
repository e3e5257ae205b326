//! Format B: any bytes as a `.json` file and as a `.jsonl` file.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(
    // Load the gazetteer and build the tagger before the first input.
    init: {
        common::tagger();
    },
    |data: &[u8]| {
    common::check_file(data, "fuzz/b.json", frontline::corpus::Format::Json);
    common::check_file(data, "fuzz/b.jsonl", frontline::corpus::Format::JsonLines);
});

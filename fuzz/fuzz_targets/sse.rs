//! Any bytes from a v1 run stream, split anywhere: the parser never panics,
//! stays within its bounds, and a split never changes the events.
#![no_main]

use cursor_api::v1::sse::{SseParser, parse_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let whole = parse_all(bytes);
    let mut p = SseParser::new();
    let cut = (split as usize).min(bytes.len());
    let mut events = Vec::new();
    let mut failed = false;
    for part in [&bytes[..cut], &bytes[cut..]] {
        match p.feed(part) {
            Ok(e) => events.extend(e),
            Err(_) => failed = true,
        }
    }
    p.finish();
    if let (Ok(whole), false) = (whole, failed) {
        assert_eq!(whole, events);
    }
});

//! Any input values (`NAME=value` lines): validation never panics, and a
//! rejection names an input and never echoes a secret.
#![no_main]

use kit::env::Env;
use cursor_agent_action::inputs::{Inputs, RawInputs};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The whole text as a duration too (the parsers are private to the
    // inputs; this reaches the duration parser through its input).
    let mut pairs: Vec<(String, String)> = vec![
        ("INPUT_CURSOR-API-KEY".into(), "crsr_fuzz_secret_key".into()),
        ("INPUT_TIMEOUT".into(), text.to_string()),
    ];
    for line in text.lines() {
        if let Some((name, value)) = line.split_once('=') {
            pairs.push((
                format!("INPUT_{}", name.to_ascii_uppercase()),
                value.to_string(),
            ));
        }
    }
    let raw = RawInputs::read(&Env::from_pairs(pairs));
    if let Err(errors) = Inputs::parse(&raw, Path::new("/nonexistent-fuzz-workspace")) {
        let message = errors.to_string();
        assert!(!message.is_empty());
        // The key is the one set above unless the data sets it again, and
        // only another input could quote it back if the data holds it.
        if !text.contains("crsr_fuzz_secret_key") {
            assert!(!message.contains("crsr_fuzz_secret_key"));
        }
    }
});

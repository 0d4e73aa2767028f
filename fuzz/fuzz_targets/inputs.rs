//! Any input values (`NAME=value` lines): validation never panics, and a
//! rejection names an input and never echoes a secret.
#![no_main]

use cursor_agent_action::Env;
use cursor_agent_action::inputs::{Inputs, RawInputs, parse};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse::duration(&text);
    let mut pairs: Vec<(String, String)> =
        vec![("INPUT_CURSOR-API-KEY".into(), "crsr_fuzz_secret_key".into())];
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
        assert!(!errors.0.is_empty());
        let message = errors.to_string();
        if raw.get("cursor-api-key") == Some("crsr_fuzz_secret_key") {
            assert!(!message.contains("crsr_fuzz_secret_key"));
        }
    }
});

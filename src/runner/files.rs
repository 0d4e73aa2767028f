//! The environment files: step outputs (`GITHUB_OUTPUT`) and the step
//! summary (`GITHUB_STEP_SUMMARY`). Values are redacted before writing.

use super::escape::random_token;
use kit::secret::Redactor;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// GitHub refuses step summaries above 1 MiB.
pub const SUMMARY_LIMIT_BYTES: usize = 1024 * 1024;

/// Formats outputs in the delimiter form the toolkit uses, for every value
/// (we never control whether a value is one line). `next_token` supplies
/// delimiter candidates; one that occurs in the name or value is discarded.
pub fn format_outputs(pairs: &[(&str, String)], mut next_token: impl FnMut() -> String) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        let delimiter = loop {
            let candidate = format!("ghadelimiter_{}", next_token());
            if !value.contains(&candidate) && !name.contains(&candidate) {
                break candidate;
            }
        };
        // A value ending in a newline would gain an empty last line otherwise.
        out.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    out
}

fn append(path: &Path, text: &str) -> io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(text.as_bytes())?;
    f.flush()
}

/// Where outputs go. Without `GITHUB_OUTPUT` (outside Actions) the caller
/// prints them instead.
#[derive(Debug, Clone, Default)]
pub struct OutputFile {
    pub path: Option<PathBuf>,
}

impl OutputFile {
    pub fn write(&self, redactor: &Redactor, pairs: &[(&str, String)]) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let redacted: Vec<(&str, String)> = pairs
            .iter()
            .map(|(k, v)| (*k, redactor.redact(v).into_owned()))
            .collect();
        append(path, &format_outputs(&redacted, random_token))
    }
}

/// The step summary. Appended once per run (and kept under GitHub's limit).
#[derive(Debug, Clone, Default)]
pub struct SummaryFile {
    pub path: Option<PathBuf>,
}

impl SummaryFile {
    pub fn append(&self, redactor: &Redactor, markdown: &str) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let existing = std::fs::metadata(path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let text = redactor.redact(markdown);
        let budget = SUMMARY_LIMIT_BYTES.saturating_sub(existing);
        if text.len() <= budget {
            return append(path, &text);
        }
        let note = "\n\n_(summary truncated: GitHub keeps at most 1 MiB per step)_\n";
        let mut cut = budget.saturating_sub(note.len());
        while cut > 0 && !text.is_char_boundary(cut) {
            cut -= 1;
        }
        append(path, &format!("{}{note}", &text[..cut]))
    }
}

/// Parses a `GITHUB_OUTPUT` file the way the runner does (tests, the demo).
pub fn parse_outputs(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            loop {
                match lines.next() {
                    Some(l) if l == delimiter => break,
                    Some(l) => value.push(l),
                    None => return Err(format!("no closing delimiter for output `{name}`")),
                }
            }
            out.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_string(), value.to_string()));
        } else {
            return Err(format!("malformed output line: {line}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn multi_line_values_round_trip() {
        let pairs = [
            ("summary", "line 1\nline 2\n".to_string()),
            ("a", String::new()),
        ];
        let text = format_outputs(&pairs, || "x".into());
        assert_eq!(
            text,
            "summary<<ghadelimiter_x\nline 1\nline 2\n\nghadelimiter_x\na<<ghadelimiter_x\n\nghadelimiter_x\n"
        );
        let parsed = parse_outputs(&text).unwrap();
        assert_eq!(parsed[0].1, "line 1\nline 2\n");
        assert_eq!(parsed[1].1, "");
    }

    #[test]
    fn a_delimiter_found_in_the_value_is_replaced() {
        let mut tokens = vec!["good".to_string(), "evil".to_string()];
        let value = "x\nghadelimiter_evil\ninjected=1".to_string();
        let text = format_outputs(&[("summary", value.clone())], || tokens.pop().unwrap());
        assert!(text.starts_with("summary<<ghadelimiter_good\n"));
        assert_eq!(
            parse_outputs(&text).unwrap(),
            vec![("summary".into(), value)]
        );
    }

    #[test]
    fn summary_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        let file = SummaryFile {
            path: Some(path.clone()),
        };
        file.append(&Redactor::new(), &"é".repeat(SUMMARY_LIMIT_BYTES))
            .unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.len() <= SUMMARY_LIMIT_BYTES);
        assert!(written.ends_with("per step)_\n"));
    }

    proptest! {
        #[test]
        fn any_value_round_trips(value in "(\\PC|\n|\r|<|=)*", name in "[a-z][a-z-]{0,10}") {
            let text = format_outputs(&[(name.as_str(), value.clone())], random_token);
            let parsed = parse_outputs(&text).unwrap();
            prop_assert_eq!(parsed, vec![(name, value)]);
        }
    }
}

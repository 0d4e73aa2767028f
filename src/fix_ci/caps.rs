//! What a failed job's evidence may take in the prompt besides its log
//! excerpt: its facts and its annotations. `gather` sets this aside before
//! it excerpts a log, and the prompt renders within it.

use crate::github::actions::Annotation;

/// A job's annotations, at most (inside its [`super::evidence::JOB_CAP`]).
pub const ANNOTATIONS_CAP: usize = 4 * 1024;

/// Bytes a job's facts take at most in the prompt (name, conclusion,
/// step, link), set aside with its annotations when its excerpt's cap is
/// chosen ([`evidence_reserve`]).
pub const FACTS_CAP: usize = 1024;

/// The bytes of a job's evidence that are not its log excerpt: what
/// `gather` sets aside before it excerpts the log, so that the excerpt is
/// seldom cut again when the prompt is rendered.
pub fn evidence_reserve(annotations: &[Annotation]) -> usize {
    let mut bytes = 0;
    for a in annotations {
        let line = annotation_line(a).len();
        if bytes + line > ANNOTATIONS_CAP {
            break;
        }
        bytes += line;
    }
    FACTS_CAP + bytes
}

/// An annotation as the prompt shows it: level, place, title, message, details.
pub(super) fn annotation_line(a: &Annotation) -> String {
    let at = match (a.start_line, a.end_line) {
        (Some(s), Some(e)) if e > s => format!("{}:{s}-{e}", a.path),
        (Some(s), _) if s > 0 => format!("{}:{s}", a.path),
        _ => a.path.clone(),
    };
    let mut line = format!("{} {at}: ", a.level);
    if let Some(t) = a.title.as_deref().filter(|t| !t.is_empty()) {
        line.push_str(t);
        line.push_str(": ");
    }
    line.push_str(&a.message);
    if let Some(d) = a.raw_details.as_deref().filter(|d| !d.is_empty()) {
        line.push('\n');
        line.push_str(d);
    }
    line.push('\n');
    line
}

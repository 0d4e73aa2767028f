//! Finding every form in a text, in time linear in its length: single line
//! breaks are folded away first (base64 wrapped at 76 columns, a value a
//! terminal wrapped), then one Aho-Corasick pass finds every occurrence of
//! every registered form (overlapping ones too: two forms that overlap are
//! both replaced, as their union) and one more the token shapes; the ranges
//! found are mapped back to the text with a cursor that only moves forward.

use super::{count, shapes};
use aho_corasick::{AhoCorasick, MatchKind};
use std::borrow::Cow;
use std::ops::Range;

/// The registered forms, compiled. Built when a secret is added, shared by
/// every copy of the redactor.
pub(super) struct Forms {
    automaton: Option<AhoCorasick>,
    /// Each form, folded, with its prefix function (for held-back tails).
    folded: Vec<(Vec<u8>, Vec<usize>)>,
    /// The most bytes any form (or token shape) can span in text.
    pub(super) longest_span: usize,
}

/// The most bytes a form of `len` bytes can span in text: a line break
/// (`\r\n` at most) between any two of its bytes.
fn span(len: usize) -> usize {
    (3 * len).saturating_sub(2)
}

impl Default for Forms {
    /// No form registered: the token shapes only.
    fn default() -> Self {
        Self::new([])
    }
}

impl Forms {
    pub(super) fn new<'a>(forms: impl IntoIterator<Item = &'a str>) -> Self {
        let mut folded: Vec<Vec<u8>> = forms
            .into_iter()
            .map(|f| fold(f.as_bytes()).into_owned())
            .filter(|f| !f.is_empty())
            .collect();
        folded.sort();
        folded.dedup();
        let longest = folded.iter().map(Vec::len).max().unwrap_or(0);
        let automaton = (!folded.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&folded)
                .expect("the forms of a few secrets build")
        });
        let with_prefix = |f: Vec<u8>| {
            let p = prefix_function(&f);
            (f, p)
        };
        Self {
            automaton,
            folded: folded.into_iter().map(with_prefix).collect(),
            longest_span: span(longest.max(shapes::LONGEST)),
        }
    }

    /// Every range of `text` that holds a form or a token shape, in order,
    /// not overlapping (ranges that overlap are joined).
    pub(super) fn find(&self, text: &str) -> Vec<Range<usize>> {
        let folded = fold(text.as_bytes());
        let hay: &[u8] = &folded;
        let mut found: Vec<Range<usize>> = Vec::new();
        if let Some(automaton) = &self.automaton {
            count(hay.len());
            for m in automaton.find_overlapping_iter(hay) {
                count(1);
                unite(&mut found, m.range());
            }
        }
        let mut shaped = Vec::new();
        shapes::find(hay, &mut shaped);
        let joined = join(found, shaped);
        match folded {
            Cow::Borrowed(_) => joined,
            Cow::Owned(_) => {
                let mut cursor = Cursor::new(text.as_bytes());
                joined
                    .into_iter()
                    .map(|r| {
                        let start = cursor.original(r.start);
                        let end = cursor.original(r.end - 1) + 1;
                        start..end
                    })
                    .collect()
            }
        }
    }

    /// Where a tail of `text` begins that is the start (4 bytes or more) of
    /// a form or a token shape, line breaks folded, if one does.
    pub(super) fn partial_start(&self, text: &str) -> Option<usize> {
        // A `\r` at the end may be the start of a `\r\n` still arriving.
        let text = text.strip_suffix('\r').unwrap_or(text);
        let folded = fold(text.as_bytes());
        let hay: &[u8] = &folded;
        let mut start = shapes::partial_start(hay);
        for (form, prefix) in &self.folded {
            let k = suffix_prefix(hay, form, prefix);
            if k >= 4 {
                start = Some(start.map_or(hay.len() - k, |s| s.min(hay.len() - k)));
            }
        }
        let start = start?;
        Some(match folded {
            Cow::Borrowed(_) => start,
            Cow::Owned(_) => Cursor::new(text.as_bytes()).original(start),
        })
    }
}

impl Forms {}

/// Adds a range to `union` (sorted, disjoint), given ranges in order of
/// their ends: the ranges it overlaps are at the end of `union` and are
/// joined with it. Amortized constant work per range.
fn unite(union: &mut Vec<Range<usize>>, mut r: Range<usize>) {
    while let Some(last) = union.last() {
        if last.end <= r.start {
            break;
        }
        r.start = r.start.min(last.start);
        r.end = r.end.max(last.end);
        union.pop();
    }
    union.push(r);
}

/// Two sorted lists of disjoint ranges as one, overlapping ranges joined.
fn join(a: Vec<Range<usize>>, b: Vec<Range<usize>>) -> Vec<Range<usize>> {
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.start <= y.start => a.next(),
            (Some(_), Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, _) => b.next(),
        };
        let Some(r) = next else { return out };
        match out.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
}

fn is_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The run of line-break bytes starting at `i`: where it ends, and whether
/// it is a single line break (`\n` or `\r\n`), which folding removes. A
/// blank line (two breaks or more) stays: it ends what it separates.
fn break_run(text: &[u8], i: usize) -> (usize, bool) {
    let end = i + text[i..].iter().take_while(|b| is_break(**b)).count();
    let run = &text[i..end];
    (end, run == b"\n" || run == b"\r\n")
}

/// `text` without its single line breaks (borrowed when it has none).
fn fold(text: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = text.iter().position(|b| is_break(*b)) else {
        return Cow::Borrowed(text);
    };
    count(text.len());
    let mut out = Vec::with_capacity(text.len());
    out.extend_from_slice(&text[..first]);
    let mut i = first;
    let mut removed = false;
    while i < text.len() {
        if is_break(text[i]) {
            let (end, single) = break_run(text, i);
            if single {
                removed = true;
            } else {
                out.extend_from_slice(&text[i..end]);
            }
            i = end;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    if removed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// Maps positions in the folded text back to the text, for positions asked
/// in increasing order: the whole walk costs the text's length once.
struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
    folded_at: usize,
    /// Inside a run of breaks that folding kept, until here.
    kept_until: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            at: 0,
            folded_at: 0,
            kept_until: 0,
        }
    }

    /// Where the byte at `folded` (of the folded text) is in the text.
    fn original(&mut self, folded: usize) -> usize {
        debug_assert!(folded >= self.folded_at);
        loop {
            if self.at >= self.kept_until
                && self.at < self.text.len()
                && is_break(self.text[self.at])
            {
                let (end, single) = break_run(self.text, self.at);
                count(end - self.at);
                if single {
                    self.at = end;
                    continue;
                }
                self.kept_until = end;
            }
            if self.folded_at == folded {
                return self.at;
            }
            self.at += 1;
            self.folded_at += 1;
            count(1);
        }
    }
}

/// KMP's prefix function of `pattern`: for each prefix, the length of its
/// longest proper border.
fn prefix_function(pattern: &[u8]) -> Vec<usize> {
    let mut p = vec![0; pattern.len()];
    let mut k = 0;
    for i in 1..pattern.len() {
        while k > 0 && pattern[i] != pattern[k] {
            k = p[k - 1];
        }
        if pattern[i] == pattern[k] {
            k += 1;
        }
        p[i] = k;
    }
    p
}

/// The length of the longest proper prefix of `pattern` that `hay` ends
/// with, in one pass over `hay` (KMP).
fn suffix_prefix(hay: &[u8], pattern: &[u8], prefix: &[usize]) -> usize {
    let mut k = 0;
    count(hay.len());
    for &b in hay {
        if k == pattern.len() {
            k = prefix[k - 1];
        }
        while k > 0 && b != pattern[k] {
            k = prefix[k - 1];
        }
        if b == pattern[k] {
            k += 1;
        }
    }
    if k == pattern.len() { prefix[k - 1] } else { k }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_single_breaks_and_maps_back() {
        let text = "ab\ncd\r\nef\n\ngh";
        assert_eq!(&*fold(text.as_bytes()), b"abcdef\n\ngh");
        let mut c = Cursor::new(text.as_bytes());
        let map: Vec<usize> = (0..10).map(|p| c.original(p)).collect();
        assert_eq!(map, [0, 1, 3, 4, 7, 8, 9, 10, 11, 12]);
        assert!(matches!(fold(b"one line"), Cow::Borrowed(_)));
        assert!(matches!(fold(b"blank\n\nline"), Cow::Borrowed(_)));
    }

    #[test]
    fn suffix_prefix_is_the_longest_proper_prefix_at_the_end() {
        let form = b"abcabd";
        let p = prefix_function(form);
        assert_eq!(suffix_prefix(b"xxabcab", form, &p), 5);
        assert_eq!(suffix_prefix(b"xxabcabd", form, &p), 0);
        assert_eq!(suffix_prefix(b"abcabdab", form, &p), 2);
        assert_eq!(suffix_prefix(b"", form, &p), 0);
    }
}

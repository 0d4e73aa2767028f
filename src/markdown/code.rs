//! Where code is: fences, the code regions a parser sees, and a fence left open.

use super::{count, github_flavor};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use std::ops::Range;

/// A fence line: up to 3 spaces, then 3+ backticks or tildes.
pub(super) fn fence_of(line: &str) -> Option<(char, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let t = &line[indent..];
    let ch = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = t.chars().take_while(|c| *c == ch).count();
    (len >= 3).then_some((ch, len))
}

/// Where a parser sees code (spans and blocks) in `text`.
pub(super) fn code_regions(text: &str, options: Options) -> Vec<Range<usize>> {
    count(text.len());
    let mut regions: Vec<Range<usize>> = Parser::new_ext(text, options)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => Some(range),
            _ => None,
        })
        .collect();
    regions.sort_by_key(|r| r.start);
    regions
}

/// Code regions sorted by start, asked about offsets in increasing order:
/// each region is passed once, so a walk over the text is linear however
/// many code spans it has.
pub(super) struct RegionWalk {
    regions: Vec<Range<usize>>,
    next: usize,
    pub(super) steps: usize,
}

impl RegionWalk {
    pub(super) fn new(regions: Vec<Range<usize>>) -> Self {
        Self {
            regions,
            next: 0,
            steps: 0,
        }
    }

    /// Whether offset `i` (not smaller than any asked before) is in a region.
    pub(super) fn contains(&mut self, i: usize) -> bool {
        while self.regions.get(self.next).is_some_and(|r| r.end <= i) {
            self.next += 1;
            self.steps += 1;
        }
        self.regions.get(self.next).is_some_and(|r| r.start <= i)
    }
}

/// The fence that closes a fenced code block left open at the end of `text`
/// (it would swallow whatever follows in our comment).
pub(super) fn unclosed_fence(text: &str) -> Option<String> {
    count(text.len());
    let end = text.trim_end().len();
    for (event, range) in Parser::new_ext(text, github_flavor()).into_offset_iter() {
        let Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) = event else {
            continue;
        };
        if range.end < end {
            continue;
        }
        let block = text[range].trim_end();
        let (ch, len) = block.lines().next().and_then(fence_of)?;
        let last = block.lines().last().unwrap_or_default();
        let closed = block.lines().count() > 1
            && fence_of(last).is_some_and(|(c, l)| c == ch && l >= len)
            && last.trim().chars().all(|c| c == ch);
        if !closed {
            return Some(std::iter::repeat_n(ch, len).collect());
        }
    }
    None
}

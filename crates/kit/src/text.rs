//! Leaf text helpers more than one layer needs: which characters hide in
//! GitHub's UI or act on a terminal (and stripping them), and a hash that
//! stays the same across builds.

/// Characters that render as nothing (or reorder text) in GitHub's UI.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                  // soft hyphen
        | '\u{034F}'                // combining grapheme joiner
        | '\u{061C}'                // Arabic letter mark
        | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}'   // bidi isolates
        | '\u{206A}'..='\u{206F}'
        | '\u{FEFF}'                // zero-width no-break space
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}' // tag characters ("ASCII smuggling")
    )
}

/// Removes what renders as nothing or acts on a terminal: zero-width and
/// bidirectional controls (see [`is_invisible`]), NUL and
/// other control characters but tab and line feed, and whole ESC sequences
/// (CSI `ESC [ ... final`, OSC `ESC ] ... BEL or ESC \\`, and two-byte ones),
/// C1 controls included.
pub fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']') => skip_osc(&mut chars),
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' => skip_osc(&mut chars),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || is_invisible(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Parameters and intermediates (0x20-0x3F), then one final byte.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(&c) = chars.peek() {
        chars.next();
        if !('\u{20}'..='\u{3f}').contains(&c) {
            break;
        }
    }
}

/// Up to BEL or ST (`ESC \\`), or the end of the line.
fn skip_osc(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' | '\n' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// FNV-1a: a hash that is stable across builds and platforms (the standard
/// library's is not), so a re-run derives the same branch name.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_hash_is_stable() {
        // Fixed values: a change here changes every derived branch name.
        assert_eq!(stable_hash(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(&["a"]), stable_hash(&["a"]));
        assert_ne!(stable_hash(&["a", "b"]), stable_hash(&["ab"]));
        assert_eq!(
            format!("{:x}", stable_hash(&["job", "prompt"])),
            format!("{:x}", stable_hash(&["job", "prompt"]))
        );
    }
}

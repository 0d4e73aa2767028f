//! The process environment behind a lookup function, so every reader of
//! configuration can be driven by a plain map in tests.

use std::collections::HashMap;
use std::sync::Arc;

type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;
type Check = dyn Fn(&str) -> bool + Send + Sync;

/// A read-only view of environment variables.
#[derive(Clone)]
pub struct Env {
    lookup: Arc<Lookup>,
    /// Whether a variable is set but not valid UTF-8 (the lookup cannot
    /// return it; readers say so instead of treating it as unset).
    not_utf8: Arc<Check>,
}

impl Env {
    /// The real process environment.
    pub fn process() -> Self {
        Self::from_fn(|name| std::env::var(name).ok()).with_not_utf8(|name| {
            matches!(std::env::var(name), Err(std::env::VarError::NotUnicode(_)))
        })
    }

    /// Any lookup function (tests, the demo).
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        Self {
            lookup: Arc::new(lookup),
            not_utf8: Arc::new(|_| false),
        }
    }

    /// The same lookup, with `check` telling which variables hold bytes
    /// that are not UTF-8.
    pub fn with_not_utf8(mut self, check: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.not_utf8 = Arc::new(check);
        self
    }

    /// Whether `name` is set to bytes that are not valid UTF-8.
    pub fn is_not_utf8(&self, name: &str) -> bool {
        (self.not_utf8)(name)
    }

    /// A fixed set of variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self::from_fn(move |name| map.get(name).cloned())
    }

    /// The raw value, empty strings included.
    pub fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// The value, with empty (or all-whitespace) strings treated as unset,
    /// as the runner sets every declared input even when the workflow omits it.
    pub fn get(&self, name: &str) -> Option<String> {
        self.raw(name).filter(|v| !v.trim().is_empty())
    }

    /// Whether a flag variable is set to a true-ish value (`1` or `true`).
    pub fn flag(&self, name: &str) -> bool {
        matches!(
            self.get(name)
                .map(|v| v.trim().to_ascii_lowercase())
                .as_deref(),
            Some("1" | "true")
        )
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unset() {
        let env = Env::from_pairs([("A", ""), ("B", "  "), ("C", "x")]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("C").as_deref(), Some("x"));
        assert_eq!(env.raw("A").as_deref(), Some(""));
        assert_eq!(env.get("D"), None);
    }

    #[test]
    fn flags() {
        let env = Env::from_pairs([("A", "1"), ("B", "TRUE"), ("C", "0")]);
        assert!(env.flag("A"));
        assert!(env.flag("B"));
        assert!(!env.flag("C"));
        assert!(!env.flag("D"));
    }
}

//! Reading inputs: the raw values from the environment ([`RawInputs`]), and
//! the [`Reader`] that parses each one by its entry in [`super::spec`],
//! collecting every problem, so one run reports all bad inputs at once.

use super::origin::SecretsOrigin;
use super::spec::{self, INPUTS, Input};
use kit::env::Env;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Input values as the environment gave them: non-empty strings by name.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawInputs {
    values: BTreeMap<&'static str, String>,
    /// Inputs whose variable holds bytes that are not UTF-8.
    not_utf8: Vec<&'static str>,
    /// Why a secret may have arrived empty (the triggering event).
    secrets_origin: SecretsOrigin,
}

impl RawInputs {
    /// Reads every declared input from `INPUT_<NAME>` (hyphens kept), falling
    /// back to the underscore form. Empty values count as unset.
    pub fn read(env: &Env) -> Self {
        let mut values = BTreeMap::new();
        let mut not_utf8 = Vec::new();
        for input in INPUTS {
            let [hyphen, underscore] = spec::env_names(input.name);
            if let Some(v) = env.get(&hyphen).or_else(|| env.get(&underscore)) {
                values.insert(input.name, v);
            } else if env.is_not_utf8(&hyphen) || env.is_not_utf8(&underscore) {
                not_utf8.push(input.name);
            }
        }
        Self {
            values,
            not_utf8,
            secrets_origin: SecretsOrigin::read(env),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The values of secret inputs, to mask before anything is printed.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        INPUTS
            .iter()
            .filter(|s| s.secret)
            .filter_map(|s| self.get(s.name))
    }
}

impl fmt::Debug for RawInputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: BTreeMap<_, _> = self
            .values
            .iter()
            .map(|(k, v)| {
                let secret = spec::input_spec(k).is_some_and(|s| s.secret);
                (*k, if secret { "***" } else { v.as_str() })
            })
            .collect();
        shown.fmt(f)
    }
}

/// One rejected input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub(crate) input: &'static str,
    pub(crate) problem: String,
}

/// Every rejected input of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputErrors(pub(crate) Vec<InputError>);

impl InputErrors {
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|e| e.input).collect()
    }
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            1 => write!(f, "1 input is invalid:")?,
            n => write!(f, "{n} inputs are invalid:")?,
        }
        for e in &self.0 {
            write!(f, "\n  - `{}`: {}", e.input, e.problem)?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

/// Parses inputs by their entries, collecting every problem.
pub(crate) struct Reader<'a> {
    raw: &'a RawInputs,
    workspace: &'a Path,
    errors: Vec<InputError>,
    /// The inputs read so far, to check that every declared one is.
    read: Vec<&'static str>,
}

impl<'a> Reader<'a> {
    /// A reader of `raw`; relative paths resolve against `workspace`. Inputs
    /// whose bytes are not UTF-8 are rejected at once.
    pub(crate) fn new(raw: &'a RawInputs, workspace: &'a Path) -> Self {
        let mut reader = Reader {
            raw,
            workspace,
            errors: Vec::new(),
            read: Vec::new(),
        };
        for &input in &raw.not_utf8 {
            reader.fail(
                input,
                format!(
                    "is not valid UTF-8 text (the variable {} holds other bytes); write the value as UTF-8",
                    spec::env_names(input)[0]
                ),
            );
        }
        reader
    }

    pub(crate) fn fail(&mut self, input: &'static str, problem: impl Into<String>) {
        self.errors.push(InputError {
            input,
            problem: problem.into(),
        });
    }

    /// The input's value, parsed; `None` when it is unset, or rejected (the
    /// problem is recorded).
    pub(crate) fn opt<T>(&mut self, input: &Input<T>) -> Option<T> {
        let name = input.spec.name;
        debug_assert!(
            spec::input_spec(name).is_some(),
            "`{name}` has an entry but no line in INPUTS, so it is never read"
        );
        self.read.push(name);
        let value = self.raw.get(name)?;
        match (input.parse)(value, self.workspace) {
            Ok(v) => Some(v),
            Err(problem) => {
                self.fail(name, problem);
                None
            }
        }
    }

    /// The input's value, parsed, or its declared default when it is unset
    /// or rejected (the problem is recorded; the rules across inputs still
    /// see a value).
    pub(crate) fn value<T>(&mut self, input: &Input<T>) -> T {
        self.opt(input).unwrap_or_else(|| {
            (input.parse)(input.spec.default, self.workspace).expect("declared defaults parse")
        })
    }

    /// The one required input, `cursor-api-key`: when unset, says why the
    /// secret passed to it may be empty.
    pub(crate) fn required<T>(&mut self, input: &Input<T>) -> Option<T> {
        let name = input.spec.name;
        if self.raw.get(name).is_none() && !self.raw.not_utf8.contains(&name) {
            self.fail(name, self.raw.secrets_origin.empty_key_problem());
        }
        self.opt(input)
    }

    /// `value`, or every problem found, in the order of the interface table
    /// (not of checking).
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, InputErrors> {
        debug_assert!(
            INPUTS.iter().all(|s| self.read.contains(&s.name)),
            "every input in INPUTS is read by Inputs::parse"
        );
        if self.errors.is_empty() {
            return Ok(value);
        }
        let order = |name: &str| INPUTS.iter().position(|s| s.name == name);
        self.errors.sort_by_key(|e| order(e.input));
        Err(InputErrors(self.errors))
    }
}

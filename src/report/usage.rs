//! What a v1 run cost: tokens and, when reported, money
//! (`GET /v1/agents/{id}/usage?runId=…`, `cursor-api.md` §8.6), for the final
//! comment, the step summary and the outputs `usage`, `total-tokens` and
//! `cost-cents`.
//!
//! The shape is parsed defensively: numbers may come as integers, floats or
//! strings; a missing `cost` (or a `cost` without `chargedCents`) means "not
//! reported yet", never zero; zero `chargedCents` means plan-included (or
//! BYOK, or credits), shown as such, not as free. Usage is never a reason to
//! fail: any failure (404, `403 feature_unavailable`, 5xx, a body without
//! usage) gives `None` and changes nothing else.
//!
//! Cost lags the run's end, so [`read_usage`] reads up to [`USAGE_READS`]
//! times, [`USAGE_SPACING`] apart, within [`USAGE_BUDGET`], and returns what
//! it has.

use cursor_api::ErrorClass;
use cursor_api::v1::{Usage, V1Client};
use kit::clock::Clock;
use serde_json::Value;
use std::time::Duration;

/// Reads of the usage at most, for one run.
pub const USAGE_READS: u32 = 3;
/// Between two reads.
pub const USAGE_SPACING: Duration = Duration::from_secs(4);
/// All reads (waits included) end within this.
pub const USAGE_BUDGET: Duration = Duration::from_secs(10);

/// Token counts (`totalUsage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub input: u64,
    pub output: u64,
    pub cache_write: u64,
    pub cache_read: u64,
    pub total: u64,
}

/// Money, in (float) cents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostCents {
    /// What was charged: discounts and fees in; zero when plan-included.
    pub charged: f64,
    /// The undiscounted model cost, when sent.
    pub raw: Option<f64>,
}

/// A run's usage as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageReport {
    pub tokens: TokenCounts,
    /// `None`: not reported (yet).
    pub cost: Option<CostCents>,
    /// `totalUsage` as sent (the `usage` output).
    pub total_usage: Value,
}

/// A non-negative number from a JSON number or numeric string.
fn number(v: Option<&Value>) -> Option<f64> {
    let n = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

fn count(v: Option<&Value>) -> Option<u64> {
    // Beyond 2^53 a float is no longer exact; no run comes near.
    number(v).map(|n| n.min(9.0e15) as u64)
}

fn cost_of(v: Option<&Value>) -> Option<CostCents> {
    let v = v?.as_object()?;
    Some(CostCents {
        charged: number(v.get("chargedCents"))?,
        raw: number(v.get("rawCostCents")),
    })
}

impl UsageReport {
    /// Parses a usage body. `run`: the run asked about; its own entry's
    /// cost is used when the top-level `cost` is missing. `None` when the body
    /// carries no usage (no `totalUsage`, or no token count in it).
    pub fn from_json(body: &Value, run: Option<&str>) -> Option<Self> {
        let total = body.get("totalUsage")?.as_object()?;
        let get = |k: &str| count(total.get(k));
        let (input, output, cache_write, cache_read) = (
            get("inputTokens"),
            get("outputTokens"),
            get("cacheWriteTokens"),
            get("cacheReadTokens"),
        );
        if [input, output, cache_write, cache_read, get("totalTokens")]
            .iter()
            .all(Option::is_none)
        {
            return None;
        }
        let (input, output, cache_write, cache_read) = (
            input.unwrap_or(0),
            output.unwrap_or(0),
            cache_write.unwrap_or(0),
            cache_read.unwrap_or(0),
        );
        let tokens = TokenCounts {
            input,
            output,
            cache_write,
            cache_read,
            total: get("totalTokens").unwrap_or_else(|| input + output + cache_write + cache_read),
        };
        let run_cost = || {
            let runs = body.get("runs")?.as_array()?;
            let entry = match run {
                Some(id) => runs
                    .iter()
                    .find(|r| r.get("id").and_then(Value::as_str) == Some(id))?,
                None if runs.len() == 1 => &runs[0],
                None => return None,
            };
            cost_of(entry.get("cost"))
        };
        Some(Self {
            tokens,
            cost: cost_of(body.get("cost")).or_else(run_cost),
            total_usage: Value::Object(total.clone()),
        })
    }

    /// From the client's typed answer. A run that reports all zeros and no
    /// cost has no usage yet (`None`).
    pub fn from_usage(usage: &Usage, run: Option<&str>) -> Option<Self> {
        let body = serde_json::to_value(usage).ok()?;
        let report = Self::from_json(&body, run)?;
        (report.tokens.total > 0 || report.cost.is_some()).then_some(report)
    }

    /// "12.3k tokens (input 10k, output 2.3k, cache 0) · $0.42".
    pub fn line(&self) -> String {
        let t = &self.tokens;
        let mut line = format!(
            "{} tokens (input {}, output {}, cache {})",
            short_count(t.total),
            short_count(t.input),
            short_count(t.output),
            short_count(t.cache_read + t.cache_write)
        );
        line.push_str(" · ");
        line.push_str(&match self.cost {
            None => "cost not reported yet".into(),
            Some(c) => money(c.charged),
        });
        line
    }

    /// `usage` (the `totalUsage` JSON), `total-tokens`, `cost-cents`
    /// (charged; empty when not reported).
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("usage", self.total_usage.to_string()),
            ("total-tokens", self.tokens.total.to_string()),
            (
                "cost-cents",
                self.cost.map(|c| cents(c.charged)).unwrap_or_default(),
            ),
        ]
    }
}

/// The outputs when no usage is known: present and empty.
pub fn empty_outputs() -> Vec<(&'static str, String)> {
    ["usage", "total-tokens", "cost-cents"]
        .into_iter()
        .map(|n| (n, String::new()))
        .collect()
}

/// 950, 12.3k, 4.5M.
pub fn short_count(n: u64) -> String {
    let trim = |s: String| s.trim_end_matches(".0").to_string();
    match n {
        0..1_000 => n.to_string(),
        1_000..999_950 => trim(format!("{:.1}", n as f64 / 1e3)) + "k",
        _ => trim(format!("{:.1}", n as f64 / 1e6)) + "M",
    }
}

/// Cents as a plain decimal (at most 4 places, no trailing zeros).
fn cents(c: f64) -> String {
    let s = format!("{c:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() { "0".into() } else { s.into() }
}

/// Charged cents as money: zero is plan-included, not free.
fn money(charged: f64) -> String {
    if charged == 0.0 {
        "included in your plan (nothing charged)".into()
    } else if charged < 100.0 {
        // Fractional cents are normal (0.28–2.45 ¢ per run): keep them.
        let s = format!("${:.4}", charged / 100.0);
        let s = s.trim_end_matches('0');
        if s.ends_with('.') || s.len() < "$0.00".len() {
            format!("${:.2}", charged / 100.0)
        } else {
            s.to_string()
        }
    } else {
        format!("${:.2}", charged / 100.0)
    }
}

/// Reads the run's usage, re-reading while the cost lags: up to
/// [`USAGE_READS`] reads [`USAGE_SPACING`] apart within [`USAGE_BUDGET`]
/// (a `Retry-After` beyond the budget ends it). Returns the last usage read
/// (with cost if it came), or `None` on any failure.
pub async fn read_usage(
    client: &V1Client,
    agent: &str,
    run: Option<&str>,
    clock: Clock,
) -> Option<UsageReport> {
    let started = clock.now();
    let mut best: Option<UsageReport> = None;
    for read in 0..USAGE_READS {
        if read > 0 {
            let wait = USAGE_SPACING;
            if clock.now().saturating_since(started) + wait > USAGE_BUDGET {
                break;
            }
            clock.sleep(wait).await;
        }
        match client.usage(agent, run).await {
            Ok(usage) => {
                if let Some(report) = UsageReport::from_usage(&usage, run) {
                    let has_cost = report.cost.is_some();
                    best = Some(report);
                    if has_cost {
                        break;
                    }
                }
            }
            Err(e) => match e.class() {
                ErrorClass::Fatal => break,
                ErrorClass::RateLimited {
                    retry_after: Some(wait),
                } if clock.now().saturating_since(started) + wait > USAGE_BUDGET => break,
                ErrorClass::RateLimited {
                    retry_after: Some(wait),
                } => clock.sleep(wait.saturating_sub(USAGE_SPACING)).await,
                _ => {}
            },
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_answer_reads_as_tokens_and_money() {
        let body = json!({"totalUsage": {"inputTokens": 10000, "outputTokens": 2300, "cacheWriteTokens": 0, "cacheReadTokens": 50, "totalTokens": 12350},
                          "cost": {"rawCostCents": 50.1, "chargedCents": 42}, "runs": []});
        let u = UsageReport::from_json(&body, None).unwrap();
        assert_eq!(
            u.line(),
            "12.3k tokens (input 10k, output 2.3k, cache 50) · $0.42"
        );
        assert_eq!(
            u.outputs(),
            vec![
                ("usage", body["totalUsage"].to_string()),
                ("total-tokens", "12350".into()),
                ("cost-cents", "42".into())
            ]
        );
    }

    #[test]
    fn zero_charged_is_included_and_absent_cost_is_not_zero() {
        let body = json!({"totalUsage": {"totalTokens": 5}, "cost": {"rawCostCents": 3.2, "chargedCents": 0}});
        let u = UsageReport::from_json(&body, None).unwrap();
        assert!(
            u.line()
                .ends_with("· included in your plan (nothing charged)"),
            "{}",
            u.line()
        );
        assert_eq!(u.outputs()[2].1, "0");
        for cost in [
            json!(null),
            json!({}),
            json!({"rawCostCents": 3.2}),
            json!("x"),
        ] {
            let body = json!({"totalUsage": {"totalTokens": 5}, "cost": cost});
            let u = UsageReport::from_json(&body, None).unwrap();
            assert_eq!(u.cost, None, "{cost}");
            assert!(u.line().ends_with("· cost not reported yet"));
            assert_eq!(u.outputs()[2].1, "");
        }
    }

    #[test]
    fn odd_shapes_are_read_or_refused_never_misread() {
        let body = json!({"totalUsage": {"inputTokens": "7", "outputTokens": 3.0, "totalTokens": -1},
                          "runs": [{"id": "run-a", "cost": {"chargedCents": "2.48"}}, {"id": "run-b"}]});
        let u = UsageReport::from_json(&body, Some("run-a")).unwrap();
        assert_eq!(u.tokens.total, 10, "a negative total is ignored and summed");
        assert_eq!(u.cost.unwrap().charged, 2.48);
        assert_eq!(u.line(), "10 tokens (input 7, output 3, cache 0) · $0.0248");
        assert_eq!(
            UsageReport::from_json(&body, Some("run-b")).unwrap().cost,
            None
        );
        for body in [
            json!({}),
            json!({"totalUsage": {}}),
            json!({"totalUsage": 5}),
            json!([1]),
        ] {
            assert_eq!(UsageReport::from_json(&body, None), None, "{body}");
        }
    }

    #[test]
    fn counts_are_short() {
        assert_eq!(short_count(950), "950");
        assert_eq!(short_count(1000), "1k");
        assert_eq!(short_count(12_345), "12.3k");
        assert_eq!(short_count(999_999), "1M");
        assert_eq!(short_count(4_500_000), "4.5M");
        assert_eq!(money(0.28), "$0.0028");
        assert_eq!(money(8.084276), "$0.0808");
        assert_eq!(money(50.0), "$0.50");
        assert_eq!(money(1234.5), "$12.35");
        assert_eq!(cents(8.084276), "8.0843");
    }
}

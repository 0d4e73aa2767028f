//! What a v1 run cost, as the seam tells it: tokens and, when reported,
//! money (`GET /v1/agents/{id}/usage?runId=…`, `cursor-api.md` §8.6). v0
//! has no usage. The report renders it (`report::usage`).
//!
//! The shape is parsed defensively: numbers may come as integers, floats or
//! strings; a missing `cost` (or a `cost` without `chargedCents`) means "not
//! reported yet", never zero; zero `chargedCents` means plan-included (or
//! BYOK, or credits), never free. Usage is never a reason to
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
pub struct RunUsage {
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

impl RunUsage {
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
) -> Option<RunUsage> {
    let started = clock.now();
    let mut best: Option<RunUsage> = None;
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
                if let Some(report) = RunUsage::from_usage(&usage, run) {
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
    fn odd_shapes_are_read_or_refused_never_misread() {
        let body = json!({"totalUsage": {"inputTokens": "7", "outputTokens": 3.0, "totalTokens": -1},
                          "runs": [{"id": "run-a", "cost": {"chargedCents": "2.48"}}, {"id": "run-b"}]});
        let u = RunUsage::from_json(&body, Some("run-a")).unwrap();
        assert_eq!(u.tokens.total, 10, "a negative total is ignored and summed");
        assert_eq!(u.cost.unwrap().charged, 2.48);
        assert_eq!(
            RunUsage::from_json(&body, Some("run-b")).unwrap().cost,
            None
        );
        for body in [
            json!({}),
            json!({"totalUsage": {}}),
            json!({"totalUsage": 5}),
            json!([1]),
        ] {
            assert_eq!(RunUsage::from_json(&body, None), None, "{body}");
        }
    }
}

//! A run's usage as told: the final comment's and the step summary's line,
//! and the outputs `usage`, `total-tokens` and `cost-cents`. Pure renderers of
//! [`RunUsage`] (read by the agent seam: `agent::usage`).

use crate::agent::RunUsage;

/// "12.3k tokens (input 10k, output 2.3k, cache 0) · $0.42".
pub fn line(usage: &RunUsage) -> String {
    let t = &usage.tokens;
    let mut line = format!(
        "{} tokens (input {}, output {}, cache {})",
        short_count(t.total),
        short_count(t.input),
        short_count(t.output),
        short_count(t.cache_read + t.cache_write)
    );
    line.push_str(" · ");
    line.push_str(&match usage.cost {
        None => "cost not reported yet".into(),
        Some(c) => money(c.charged),
    });
    line
}

/// `usage` (the `totalUsage` JSON), `total-tokens`, `cost-cents`
/// (charged; empty when not reported).
pub fn outputs(usage: &RunUsage) -> Vec<(&'static str, String)> {
    vec![
        ("usage", usage.total_usage.to_string()),
        ("total-tokens", usage.tokens.total.to_string()),
        (
            "cost-cents",
            usage.cost.map(|c| cents(c.charged)).unwrap_or_default(),
        ),
    ]
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_answer_reads_as_tokens_and_money() {
        let body = json!({"totalUsage": {"inputTokens": 10000, "outputTokens": 2300, "cacheWriteTokens": 0, "cacheReadTokens": 50, "totalTokens": 12350},
                          "cost": {"rawCostCents": 50.1, "chargedCents": 42}, "runs": []});
        let u = RunUsage::from_json(&body, None).unwrap();
        assert_eq!(
            line(&u),
            "12.3k tokens (input 10k, output 2.3k, cache 50) · $0.42"
        );
        assert_eq!(
            outputs(&u),
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
        let u = RunUsage::from_json(&body, None).unwrap();
        assert!(
            line(&u).ends_with("· included in your plan (nothing charged)"),
            "{}",
            line(&u)
        );
        assert_eq!(outputs(&u)[2].1, "0");
        for cost in [
            json!(null),
            json!({}),
            json!({"rawCostCents": 3.2}),
            json!("x"),
        ] {
            let body = json!({"totalUsage": {"totalTokens": 5}, "cost": cost});
            let u = RunUsage::from_json(&body, None).unwrap();
            assert_eq!(u.cost, None, "{cost}");
            assert!(line(&u).ends_with("· cost not reported yet"));
            assert_eq!(outputs(&u)[2].1, "");
        }
    }

    #[test]
    fn odd_numbers_are_told_as_read() {
        let body = json!({"totalUsage": {"inputTokens": "7", "outputTokens": 3.0, "totalTokens": -1},
                          "runs": [{"id": "run-a", "cost": {"chargedCents": "2.48"}}]});
        let u = RunUsage::from_json(&body, Some("run-a")).unwrap();
        assert_eq!(line(&u), "10 tokens (input 7, output 3, cache 0) · $0.0248");
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

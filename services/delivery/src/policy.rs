//! Delivery policies: when a failed webhook is tried again, on Amazon SNS's model
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>).
//!
//! After the first attempt come `num_retries` retries in four phases: immediate
//! retries (`num_no_delay_retries`), the pre-backoff phase (`num_min_delay_retries`,
//! `min_delay_target` apart), the backoff phase (the retries left, their delays
//! growing from `min_delay_target` to `max_delay_target` by the backoff function),
//! and the post-backoff phase (`num_max_delay_retries`, `max_delay_target` apart).
//! The delays add up to at most [`MAX_TOTAL_SECONDS`]; the spec bounds the
//! retries (100) and the targets (1 to 3600 s). Every delay but the
//! immediate ones is jittered by up to [`JITTER`] either way, within the targets.

use std::time::Duration;

use delivery_api::models::{BackoffFunction, DeliveryPolicy};

/// SNS's bound on the time a policy's retries take, in seconds.
pub const MAX_TOTAL_SECONDS: f64 = 3600.0;
/// How much a delay may move either way, as a fraction of it.
pub const JITTER: f64 = 0.1;

/// Why a policy is refused: the field (under `delivery_policy`) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub field: &'static str,
    pub message: String,
}

/// The checks the spec's bounds cannot express: between fields, and the total.
/// Every violation, not only the first.
pub fn check(policy: &DeliveryPolicy) -> Vec<PolicyError> {
    let mut errors = Vec::new();
    if policy.max_delay_target < policy.min_delay_target {
        errors.push(PolicyError {
            field: "max_delay_target",
            message: format!(
                "must be greater than or equal to min_delay_target ({})",
                policy.min_delay_target
            ),
        });
    }
    let phases = i64::from(policy.num_no_delay_retries)
        + i64::from(policy.num_min_delay_retries)
        + i64::from(policy.num_max_delay_retries);
    if phases > i64::from(policy.num_retries) {
        errors.push(PolicyError {
            field: "num_retries",
            message: format!(
                "must be greater than or equal to num_no_delay_retries + num_min_delay_retries + num_max_delay_retries ({phases})"
            ),
        });
    }
    if let BackoffFunction::Undefined(name) = &policy.backoff_function {
        errors.push(PolicyError {
            field: "backoff_function",
            message: format!("`{name}` is not one of linear, arithmetic, geometric, exponential"),
        });
    }
    if errors.is_empty() {
        let total = total_seconds(policy);
        if total > MAX_TOTAL_SECONDS {
            errors.push(PolicyError {
                field: "num_retries",
                message: format!(
                    "the retries would take {total:.0} seconds in all; a delivery policy may take at most {MAX_TOTAL_SECONDS:.0} seconds"
                ),
            });
        }
    }
    errors
}

/// The delay before retry `retry` (1 for the first retry), moved by `unit` (in
/// -1..=1, a random draw) times [`JITTER`] and kept within the policy's targets
/// (immediate retries stay immediate); `None` once the policy has no retries left.
pub fn jittered(policy: &DeliveryPolicy, retry: i32, unit: f64) -> Option<Duration> {
    let base = seconds(policy, retry)?;
    if base == 0.0 {
        return Some(Duration::ZERO);
    }
    let (min, max) = targets(policy);
    let moved = (base * (1.0 + JITTER * unit.clamp(-1.0, 1.0))).clamp(min.min(base), max.max(base));
    Some(Duration::from_secs_f64(moved))
}

/// The seconds every retry waits, added up.
pub fn total_seconds(policy: &DeliveryPolicy) -> f64 {
    (1..=policy.num_retries)
        .filter_map(|retry| seconds(policy, retry))
        .sum()
}

fn targets(policy: &DeliveryPolicy) -> (f64, f64) {
    (
        f64::from(policy.min_delay_target.max(0)),
        f64::from(policy.max_delay_target.max(0)),
    )
}

fn seconds(policy: &DeliveryPolicy, retry: i32) -> Option<f64> {
    if retry < 1 || retry > policy.num_retries {
        return None;
    }
    let (min, max) = targets(policy);
    let immediate = policy.num_no_delay_retries.max(0);
    let pre = policy.num_min_delay_retries.max(0);
    let post = policy.num_max_delay_retries.max(0);
    let backoff = (policy.num_retries - immediate - pre - post).max(0);
    let mut n = retry;
    if n <= immediate {
        return Some(0.0);
    }
    n -= immediate;
    if n <= pre {
        return Some(min);
    }
    n -= pre;
    if n <= backoff {
        return Some(min + (max - min) * growth(&policy.backoff_function, n, backoff, min, max));
    }
    Some(max)
}

/// How far (0..=1) from `min` to `max` the `k`-th of `n` backoff delays is.
fn growth(function: &BackoffFunction, k: i32, n: i32, min: f64, max: f64) -> f64 {
    let (k, n) = (f64::from(k), f64::from(n));
    match function {
        // Equal steps.
        BackoffFunction::Linear | BackoffFunction::Undefined(_) => k / n,
        // Steps 1, 2, 3...: the step grows by a constant.
        BackoffFunction::Arithmetic => k * (k + 1.0) / (n * (n + 1.0)),
        // A constant factor between delays: min * (max/min)^(k/n).
        BackoffFunction::Geometric => {
            if max <= min {
                1.0
            } else if min <= 0.0 {
                k / n
            } else {
                ((max / min).powf(k / n) * min - min) / (max - min)
            }
        }
        // Steps 1, 2, 4, 8...: the step doubles.
        BackoffFunction::Exponential => (k.exp2() - 1.0) / (n.exp2() - 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(
        retries: i32,
        (immediate, pre, post): (i32, i32, i32),
        (min, max): (i32, i32),
        backoff: BackoffFunction,
    ) -> DeliveryPolicy {
        DeliveryPolicy {
            num_retries: retries,
            num_no_delay_retries: immediate,
            num_min_delay_retries: pre,
            num_max_delay_retries: post,
            min_delay_target: min,
            max_delay_target: max,
            backoff_function: backoff,
        }
    }

    fn schedule(p: &DeliveryPolicy) -> Vec<f64> {
        (1..=p.num_retries + 1)
            .map(|r| {
                jittered(p, r, 0.0).map_or(-1.0, |d| (d.as_secs_f64() * 100.0).round() / 100.0)
            })
            .collect()
    }

    #[test]
    fn phases_in_order() {
        let p = policy(9, (2, 2, 1), (10, 50), BackoffFunction::Linear);
        // 2 immediate, 2 at min, 4 backoff (20, 30, 40, 50), 1 at max, then none.
        assert_eq!(
            schedule(&p),
            [0.0, 0.0, 10.0, 10.0, 20.0, 30.0, 40.0, 50.0, 50.0, -1.0]
        );
        assert_eq!(total_seconds(&p), 210.0);
    }

    #[test]
    fn backoff_functions_grow_from_min_to_max() {
        let shape = |f| schedule(&policy(4, (0, 0, 0), (1, 16), f));
        assert_eq!(
            shape(BackoffFunction::Linear),
            [4.75, 8.5, 12.25, 16.0, -1.0]
        );
        assert_eq!(
            shape(BackoffFunction::Arithmetic),
            [2.5, 5.5, 10.0, 16.0, -1.0]
        );
        assert_eq!(
            shape(BackoffFunction::Geometric),
            [2.0, 4.0, 8.0, 16.0, -1.0]
        );
        assert_eq!(
            shape(BackoffFunction::Exponential),
            [2.0, 4.0, 8.0, 16.0, -1.0]
        );
        let shape = |f| schedule(&policy(3, (0, 0, 0), (10, 80), f));
        assert_eq!(shape(BackoffFunction::Geometric), [20.0, 40.0, 80.0, -1.0]);
        assert_eq!(
            shape(BackoffFunction::Exponential),
            [20.0, 40.0, 80.0, -1.0]
        );
        let shape = |f| schedule(&policy(3, (0, 0, 0), (0, 70), f));
        assert_eq!(
            shape(BackoffFunction::Exponential),
            [10.0, 30.0, 70.0, -1.0]
        );
    }

    #[test]
    fn sns_defaults_retry_three_times_twenty_seconds_apart() {
        let p = policy(3, (0, 0, 0), (20, 20), BackoffFunction::Linear);
        assert_eq!(schedule(&p), [20.0, 20.0, 20.0, -1.0]);
        assert!(check(&p).is_empty());
    }

    #[test]
    fn jitter_stays_within_ten_percent_and_the_targets() {
        let p = policy(2, (1, 0, 0), (20, 40), BackoffFunction::Linear);
        assert_eq!(jittered(&p, 1, 1.0), Some(Duration::ZERO));
        assert_eq!(jittered(&p, 2, 1.0), Some(Duration::from_secs(40)));
        assert_eq!(jittered(&p, 2, -1.0), Some(Duration::from_secs(36)));
        assert_eq!(jittered(&p, 3, 0.0), None);
    }

    #[test]
    fn refusals_name_the_field_and_the_bound() {
        let p = policy(2, (1, 1, 1), (30, 20), BackoffFunction::Linear);
        let errors = check(&p);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].field, "max_delay_target");
        assert_eq!(
            errors[0].message,
            "must be greater than or equal to min_delay_target (30)"
        );
        assert_eq!(errors[1].field, "num_retries");

        let long = policy(100, (0, 0, 0), (3600, 3600), BackoffFunction::Linear);
        assert_eq!(
            check(&long)[0].message,
            "the retries would take 360000 seconds in all; a delivery policy may take at most 3600 seconds"
        );
        let longest = policy(100, (0, 100, 0), (36, 36), BackoffFunction::Linear);
        assert!(check(&longest).is_empty());
    }
}

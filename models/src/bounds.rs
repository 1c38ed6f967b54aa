//! Upper bounds on every number that sizes a model, its training or a measurement, checked
//! before anything is allocated (documented in the README, "Reliability"), and the helpers
//! that check them with messages naming the value.

use crate::Invalid;
use memdrive_sim::scenario::compact;

/// Longest window of frames a model may look back over: the longest possible episode
/// (3600 s at 10 Hz).
pub const MAX_WINDOW_STEPS: usize = 36_000;
/// Largest hidden or token width.
pub const MAX_WIDTH: usize = 256;
/// Largest speed a configuration may name (m/s): well above any car's top speed.
const MAX_SPEED_MPS: f32 = 100.0;
/// Largest number of RBF units.
pub const MAX_RBF_UNITS: usize = 4_096;
/// Largest batch (windows or samples per gradient step).
pub const MAX_BATCH: usize = 256;
/// Largest number of gradient steps per round.
pub const MAX_STEPS_PER_ROUND: usize = 100_000;
/// Largest batch × window × width: the activations one gradient step keeps for its backward
/// pass (2²⁴ numbers; with every buffer, gradient and thread a few hundred MB).
pub const MAX_STEP_ACTIVATIONS: usize = 1 << 24;
/// Largest batch × window × width²: the multiply-adds of one gradient step (2³², about a
/// second), so that no round of the largest accepted configuration takes more than a day.
pub const MAX_STEP_WORK: usize = 1 << 32;
/// Largest steps per round × batch × window × width²: the work of one training round (2⁴⁰,
/// within an hour or so on this machine's two cores).
pub const MAX_ROUND_WORK: usize = 1 << 40;
/// Largest k-means samples × units: the distances of one Lloyd iteration.
pub const MAX_KMEANS_WORK: usize = 1 << 28;
/// Largest weight file read (256 MiB; the bundled files are under 1 MiB).
pub const MAX_WEIGHT_FILE_BYTES: u64 = 256 << 20;
/// Largest model configuration file read (1 MiB).
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// An error unless `low <= value <= high`.
pub fn count(name: &str, value: usize, low: usize, high: usize) -> Result<(), Invalid> {
    if (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(Invalid::OutOfRange {
            field: name.to_owned(),
            low: low.to_string(),
            high: high.to_string(),
            value: value.to_string(),
        })
    }
}

/// An error unless the weight of an auxiliary loss is finite and within 0…10.
pub fn presence_weight(value: f32) -> Result<(), Invalid> {
    if value.is_finite() && (0.0..=10.0).contains(&value) {
        Ok(())
    } else {
        Err(Invalid::OutOfRange {
            field: "presence_loss".into(),
            low: "0".into(),
            high: "10".into(),
            value: value.to_string(),
        })
    }
}

/// True for 0: a default a configuration leaves out when it writes itself.
pub fn is_zero(value: &f32) -> bool {
    *value == 0.0
}

/// Whether a count is 0 (left out of a weight file's configuration).
pub fn is_zero_count(value: &usize) -> bool {
    *value == 0
}

/// An error unless `value` is 0 (off) or a speed above 0 and at most `MAX_SPEED_MPS`.
pub fn least_speed(name: &str, value: f32) -> Result<(), Invalid> {
    if value == 0.0 {
        Ok(())
    } else {
        above(name, value, 0.0, MAX_SPEED_MPS)
    }
}

/// An error unless `value` is an extra loss weight: finite, from 0 to 1000.
pub fn extra_weight(name: &str, value: f32) -> Result<(), Invalid> {
    if value.is_finite() && (0.0..=1e3).contains(&value) {
        Ok(())
    } else {
        Err(Invalid::OutOfRange {
            field: name.to_owned(),
            low: "0".into(),
            high: "1000".into(),
            value: compact(f64::from(value)),
        })
    }
}

/// An error unless `value` is a share: finite, from 0 up to (not including) 1.
pub fn share(name: &str, value: f32) -> Result<(), Invalid> {
    if value.is_finite() && (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Invalid::OutOfRange {
            field: name.to_owned(),
            low: "0".into(),
            high: "below 1".into(),
            value: value.to_string(),
        })
    }
}

/// The shares of training samples drawn around hard braking and around the learner's
/// mistakes: each a share, and together at most one.
pub fn draw_shares(critical_share: f32, mistake_share: f32) -> Result<(), Invalid> {
    share("critical_share", critical_share)?;
    share("mistake_share", mistake_share)?;
    share(
        "critical_share + mistake_share",
        critical_share + mistake_share,
    )
}

/// An error unless `value` is finite and `low < value <= high`.
pub fn above(name: &str, value: f32, low: f32, high: f32) -> Result<(), Invalid> {
    if value.is_finite() && value > low && value <= high {
        Ok(())
    } else {
        Err(Invalid::NotAbove {
            field: name.to_owned(),
            low: compact(f64::from(low)),
            high: compact(f64::from(high)),
            value: compact(f64::from(value)),
        })
    }
}

/// An error unless the product of `factors` stays within `limit`; `why` says what it sizes.
pub fn product(
    what: &str,
    factors: &[usize],
    limit: usize,
    why: &'static str,
) -> Result<(), Invalid> {
    let product = factors
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f))
        .unwrap_or(usize::MAX);
    if product <= limit {
        Ok(())
    } else {
        Err(Invalid::TooMuch {
            what: what.to_owned(),
            product,
            limit,
            why,
        })
    }
}

/// An error unless `steps` gradient steps of `batch` windows of `window` frames through a
/// network of `width` fit the activation and work bounds.
pub fn gradient_steps(
    what: &str,
    steps: usize,
    batch: usize,
    window: usize,
    width: usize,
) -> Result<(), Invalid> {
    gradient_step(what, batch, window, width)?;
    product(
        &format!("steps_per_round × batch × window × {what}²"),
        &[steps, batch, window, width, width],
        MAX_ROUND_WORK,
        "the work of one training round",
    )
}

/// An error unless one gradient step of `batch` windows of `window` frames through a network
/// of `width` fits the activation and work bounds.
pub fn gradient_step(what: &str, batch: usize, window: usize, width: usize) -> Result<(), Invalid> {
    product(
        &format!("batch × window × {what}"),
        &[batch, window, width],
        MAX_STEP_ACTIVATIONS,
        "the activations one gradient step keeps",
    )?;
    product(
        &format!("batch × window × {what}²"),
        &[batch, window, width, width],
        MAX_STEP_WORK,
        "the work of one gradient step",
    )
}

/// The bounds every gradient-trained configuration shares: step size, clipping, batch and
/// steps per round.
pub fn optimiser(
    learning_rate: f32,
    clip_norm: f32,
    batch: usize,
    steps_per_round: usize,
) -> Result<(), Invalid> {
    above("learning_rate", learning_rate, 0.0, 1.0)?;
    above("clip_norm", clip_norm, 0.0, 1e6)?;
    count("batch", batch, 1, MAX_BATCH)?;
    count("steps_per_round", steps_per_round, 1, MAX_STEPS_PER_ROUND)
}

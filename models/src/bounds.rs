//! Upper bounds on every number that sizes a model, its training or a measurement, checked
//! before anything is allocated (documented in the README, "Reliability"), and the helpers
//! that check them with messages naming the value.

use memdrive_sim::scenario::compact;

/// Longest window of frames a model may look back over: the longest possible episode
/// (3600 s at 10 Hz).
pub const MAX_WINDOW_STEPS: usize = 36_000;
/// Largest hidden, token or unit width.
pub const MAX_WIDTH: usize = 1_024;
/// Largest number of RBF units.
pub const MAX_RBF_UNITS: usize = 4_096;
/// Largest batch (windows or samples per gradient step).
pub const MAX_BATCH: usize = 1_024;
/// Largest number of gradient steps per round.
pub const MAX_STEPS_PER_ROUND: usize = 1_000_000;
/// Largest batch × window × width: the activations one gradient step keeps for its backward
/// pass (2²⁶ numbers, a few GB with every buffer).
pub const MAX_STEP_ACTIVATIONS: usize = 1 << 26;
/// Largest weight file read (256 MiB; the bundled files are under 1 MiB).
pub const MAX_WEIGHT_FILE_BYTES: u64 = 256 << 20;
/// Largest model configuration file read (1 MiB).
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// An error unless `low <= value <= high`.
pub fn count(name: &str, value: usize, low: usize, high: usize) -> Result<(), String> {
    if (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{name} must be between {low} and {high}, got {value}"
        ))
    }
}

/// An error unless `value` is finite and `low < value <= high`.
pub fn above(name: &str, value: f32, low: f32, high: f32) -> Result<(), String> {
    if value.is_finite() && value > low && value <= high {
        Ok(())
    } else {
        Err(format!(
            "{name} must be above {} and at most {}, got {}",
            compact(f64::from(low)),
            compact(f64::from(high)),
            compact(f64::from(value))
        ))
    }
}

/// An error unless the activations of one gradient step stay within `MAX_STEP_ACTIVATIONS`.
pub fn activations(what: &str, factors: &[usize]) -> Result<(), String> {
    let product = factors
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f))
        .unwrap_or(usize::MAX);
    if product <= MAX_STEP_ACTIVATIONS {
        Ok(())
    } else {
        Err(format!(
            "{what} is {product}, more than {MAX_STEP_ACTIVATIONS} (the activations of one gradient step)"
        ))
    }
}

/// The bounds every gradient-trained configuration shares: step size, clipping, batch and
/// steps per round.
pub fn optimiser(
    learning_rate: f32,
    clip_norm: f32,
    batch: usize,
    steps_per_round: usize,
) -> Result<(), String> {
    above("learning_rate", learning_rate, 0.0, 1.0)?;
    above("clip_norm", clip_norm, 0.0, 1e6)?;
    count("batch", batch, 1, MAX_BATCH)?;
    count("steps_per_round", steps_per_round, 1, MAX_STEPS_PER_ROUND)
}

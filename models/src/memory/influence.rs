//! Influence by lag: how much the action depends on each past observation, through the
//! network's own backward pass.

use super::*;

/// ‖∂action_t / ∂observation_{t−k}‖ (normalised observation, squashed action) for k = 0…`lags`
/// at the step `t` whose observations end `raw` (row-major, oldest first, as the sensors gave
/// them), with `state_before` the recurrent state before the first of them (GRU only).
pub fn influence_at(model: &Model, raw: &[f32], state_before: &[f32], lags: usize) -> Vec<f64> {
    let dim = model.normaliser().dim();
    let frames = raw.len() / dim.max(1);
    let mut inputs = vec![0.0; frames * dim];
    for (x, out) in raw.chunks_exact(dim).zip(inputs.chunks_exact_mut(dim)) {
        model.normaliser().apply(x, out);
    }
    let mut out = vec![0.0; lags + 1];
    if frames == 0 {
        return out;
    }
    let by_lag = model.net().input_influence(&inputs, state_before);
    for (o, v) in out.iter_mut().zip(by_lag) {
        *o = v;
    }
    out
}

/// Mean influence by lag over up to `samples` steps of `rec` spread evenly over it (steps with
/// at least `lags` earlier steps in their episode).
pub fn influence(model: &Model, rec: &Recording, lags: usize, samples: usize) -> Vec<f64> {
    let (rows, _) = lagged_rows(rec, lags + 1);
    let mut total = vec![0.0; lags + 1];
    if rows.is_empty() || samples == 0 {
        return total;
    }
    let stride = (rows.len() / samples).max(1);
    let picked: Vec<usize> = rows.iter().step_by(stride).take(samples).copied().collect();
    let dim = rec.input_dim;
    for &t in &picked {
        let first = t - lags;
        let before = &rec.states[(first - 1) * rec.state_dim..first * rec.state_dim];
        let v = influence_at(model, &rec.inputs[first * dim..(t + 1) * dim], before, lags);
        for (a, b) in total.iter_mut().zip(v) {
            *a += b / picked.len() as f64;
        }
    }
    total
}

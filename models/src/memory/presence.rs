//! The presence probe: *whether* a pedestrian the car saw is hidden now, read from the state by
//! a logistic readout. Where a hidden pedestrian is can often be inferred without memory (the
//! truck that hides them stays in view); whether anyone is behind it cannot. Fitted on every
//! step of the training episodes, seeds with nobody included, and scored on held-out episodes
//! by time since the pedestrian was last seen: in each bin, the AUC of the hidden-now steps
//! against the steps at the same time of the held-out episodes where nobody was ever hidden
//! (0.5 is a blind guess, 1 a perfect one). Matching the time keeps the probe from reading the
//! clock instead of the memory: in `memory_gap` the two kinds of episode see the same frames at
//! the same time, so a memoryless readout scores exactly 0.5. Beside it the same probe from the
//! current observation alone, so what the present gives away is not mistaken for memory.

use super::cholesky::SpdFactor;
use super::{BELIEF_BIN_S, Recording, gather};
use nalgebra::{DMatrix, DVector};
use serde::Serialize;

/// Bins of time since seen: 0–0.5 s … 3.5–4 s.
const BINS: usize = 8;
/// L2 penalty on the standardised weights, per training row.
const PENALTY_PER_ROW: f64 = 1e-3;
/// Newton steps at most (counting those that reuse an older Hessian).
const MAX_STEPS: usize = 60;
/// Steps between refreshes of the Hessian after the first three.
const HESSIAN_EVERY: usize = 4;

/// A fitted logistic readout `P(hidden) = σ(((x − x̄) / s) · w + b)`.
#[derive(Clone, Debug)]
pub struct Logistic {
    x_mean: Vec<f64>,
    x_scale: Vec<f64>,
    weights: Vec<f64>,
    bias: f64,
}

impl Logistic {
    /// Fits by Newton's method (iteratively reweighted least squares) with an L2 penalty on
    /// the weights of the standardised features (not on the bias).
    pub fn fit(x: &DMatrix<f32>, y: &[bool]) -> Self {
        assert_eq!(x.nrows(), y.len());
        let (n, p) = (x.nrows(), x.ncols());
        let rows = n.max(1) as f64;
        let x_mean: Vec<f64> = x
            .column_iter()
            .map(|c| c.iter().map(|&v| f64::from(v)).sum::<f64>() / rows)
            .collect();
        let x_scale: Vec<f64> = x
            .column_iter()
            .zip(&x_mean)
            .map(|(c, &m)| {
                let var = c.iter().map(|&v| (f64::from(v) - m).powi(2)).sum::<f64>() / rows;
                if var > 1e-12 { var.sqrt() } else { 1.0 }
            })
            .collect();
        // (n, p + 1): standardised features and a column of ones for the bias.
        let z = DMatrix::<f64>::from_fn(n, p + 1, |r, c| {
            if c == p {
                1.0
            } else {
                (f64::from(x[(r, c)]) - x_mean[c]) / x_scale[c]
            }
        });
        let target = DVector::<f64>::from_iterator(n, y.iter().map(|&b| f64::from(u8::from(b))));
        let lambda = PENALTY_PER_ROW * rows;
        let mut beta = DVector::<f64>::zeros(p + 1);
        let zt = z.transpose();
        // The Hessian costs n·p² and the gradient n·p: for a wide state (the transformer's
        // 1,024 numbers) the Hessian is nearly all the work. It is refreshed at the first steps
        // and then only every `HESSIAN_EVERY` steps; in between the last factorisation is
        // reused. An older Hessian is the larger one (the weights q(1 − q) shrink as the fit
        // grows confident), so the reused steps are damped, and the fixed point is the same.
        let mut factor = None;
        for step_index in 0..MAX_STEPS {
            let eta = &z * &beta;
            let prob = eta.map(sigmoid);
            let mut gradient = &zt * (&target - &prob);
            for i in 0..p {
                gradient[i] -= lambda * beta[i];
            }
            if factor.is_none() || step_index < 3 || step_index % HESSIAN_EVERY == 0 {
                let weight = prob.map(|q| (q * (1.0 - q)).max(1e-9));
                let mut weighted = z.clone();
                for (mut row, w) in weighted.row_iter_mut().zip(weight.iter()) {
                    row.scale_mut(*w);
                }
                let mut hessian = &zt * weighted;
                for i in 0..p {
                    hessian[(i, i)] += lambda;
                }
                hessian[(p, p)] += 1e-9;
                factor = SpdFactor::new(hessian);
            }
            let Some(step) = factor.as_ref().map(|c| {
                let column = DMatrix::from_column_slice(p + 1, 1, gradient.as_slice());
                DVector::from_column_slice(c.solve(&column).as_slice())
            }) else {
                break;
            };
            beta += &step;
            if step.amax() < 1e-6 {
                break;
            }
        }
        Self {
            x_mean,
            x_scale,
            weights: beta.rows(0, p).iter().copied().collect(),
            bias: beta[p],
        }
    }

    /// Features it reads.
    pub fn inputs(&self) -> usize {
        self.weights.len()
    }

    /// P(a seen pedestrian is hidden now) for one state.
    pub fn probability(&self, x: &[f32]) -> f64 {
        let eta = x
            .iter()
            .zip(&self.weights)
            .enumerate()
            .map(|(i, (&v, w))| (f64::from(v) - self.x_mean[i]) / self.x_scale[i] * w)
            .sum::<f64>()
            + self.bias;
        sigmoid(eta)
    }
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// The area under the ROC curve of `positives` against `negatives` (ties count half).
pub fn auc(positives: &[f64], negatives: &[f64]) -> f64 {
    if positives.is_empty() || negatives.is_empty() {
        return f64::NAN;
    }
    let mut sorted = negatives.to_vec();
    sorted.sort_by(f64::total_cmp);
    let wins: f64 = positives
        .iter()
        .map(|&p| {
            let below = sorted.partition_point(|&n| n < p);
            let ties = sorted[below..].partition_point(|&n| n <= p);
            below as f64 + 0.5 * ties as f64
        })
        .sum();
    wins / (positives.len() as f64 * negatives.len() as f64)
}

/// The presence probe's result.
#[derive(Clone, Debug, Serialize)]
pub struct Presence {
    /// Centre of each time-since-seen bin with held-out hidden-now steps (s).
    pub time_since_seen_s: Vec<f64>,
    /// AUC of the readout from the state in each bin.
    pub auc: Vec<f64>,
    /// The same from the current observation alone.
    pub auc_current_only: Vec<f64>,
    /// Held-out hidden-now steps in each bin (with negatives at their time).
    pub positives: Vec<usize>,
    /// Held-out steps of episodes where nobody was ever hidden (the negatives).
    pub negatives: usize,
    /// The readout (state → probability), for the app's gauge.
    #[serde(skip)]
    pub readout: Option<Logistic>,
}

/// Fits the presence probe on the first part of `rec`'s episodes and scores it on the rest.
pub fn presence_probe(rec: &Recording) -> Presence {
    let boundary = rec.held_out_start();
    let train: Vec<usize> = (0..boundary).collect();
    let test: Vec<usize> = (boundary..rec.len()).collect();
    let labels =
        |rows: &[usize]| -> Vec<bool> { rows.iter().map(|&t| rec.hidden[t].is_some()).collect() };
    let train_labels = labels(&train);
    let hidden = train_labels.iter().filter(|&&h| h).count();
    let mut result = Presence {
        time_since_seen_s: Vec::new(),
        auc: Vec::new(),
        auc_current_only: Vec::new(),
        positives: Vec::new(),
        negatives: 0,
        readout: None,
    };
    // Both classes must be there to fit, and a held-out part to score.
    if hidden < 10 || train.len() - hidden < 10 || test.is_empty() {
        return result;
    }
    let score = |data: &[f32], dim: usize| {
        let fitted = Logistic::fit(&gather(data, dim, &train, None), &train_labels);
        let scores: Vec<f64> = test
            .iter()
            .map(|&t| fitted.probability(&data[t * dim..(t + 1) * dim]))
            .collect();
        (fitted, scores)
    };
    let (readout, from_state) = score(&rec.states, rec.state_dim);
    let (_, from_input) = score(&rec.inputs, rec.input_dim);
    let bin_of = |t: usize| {
        rec.hidden[t]
            .map(|h| (h.time_since_seen_s / BELIEF_BIN_S) as usize)
            .filter(|&b| b < BINS)
    };
    // Step index within its episode, and whether the episode ever had someone hidden.
    let mut step_in_episode = vec![0usize; rec.len()];
    let mut nobody = vec![false; rec.len()];
    for e in &rec.episodes {
        let empty = rec.hidden[e.clone()].iter().all(Option::is_none);
        for t in e.clone() {
            step_in_episode[t] = t - e.start;
            nobody[t] = empty;
        }
    }
    // Held-out negatives by step index: scores at that time of the episodes with nobody.
    let negatives_at = |scores: &[f64]| {
        let mut by_step: Vec<Vec<f64>> = Vec::new();
        for (&t, &s) in test.iter().zip(scores) {
            if nobody[t] {
                let k = step_in_episode[t];
                if by_step.len() <= k {
                    by_step.resize_with(k + 1, Vec::new);
                }
                by_step[k].push(s);
            }
        }
        for v in &mut by_step {
            v.sort_by(f64::total_cmp);
        }
        by_step
    };
    let (neg_state, neg_input) = (negatives_at(&from_state), negatives_at(&from_input));
    result.negatives = test.iter().filter(|&&t| nobody[t]).count();
    // The AUC of the positives of `bin`, each against the negatives of its own step.
    let matched_auc = |scores: &[f64], negatives: &[Vec<f64>], bin: usize| {
        let (mut wins, mut pairs, mut positives) = (0.0, 0.0, 0usize);
        for (&t, &p) in test.iter().zip(scores) {
            let Some(pool) = negatives.get(step_in_episode[t]).filter(|v| !v.is_empty()) else {
                continue;
            };
            if bin_of(t) != Some(bin) {
                continue;
            }
            let below = pool.partition_point(|&n| n < p);
            let ties = pool[below..].partition_point(|&n| n <= p);
            wins += below as f64 + 0.5 * ties as f64;
            pairs += pool.len() as f64;
            positives += 1;
        }
        (positives > 0).then(|| (wins / pairs, positives))
    };
    for bin in 0..BINS {
        let (Some((auc, positives)), Some((auc_input, _))) = (
            matched_auc(&from_state, &neg_state, bin),
            matched_auc(&from_input, &neg_input, bin),
        ) else {
            continue;
        };
        result
            .time_since_seen_s
            .push((bin as f64 + 0.5) * BELIEF_BIN_S);
        result.auc.push(auc);
        result.auc_current_only.push(auc_input);
        result.positives.push(positives);
    }
    result.readout = Some(readout);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ranks_and_ties() {
        assert_eq!(auc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auc(&[1.0], &[2.0, 3.0]), 0.0);
        assert_eq!(auc(&[2.0], &[2.0, 1.0]), 0.75);
        assert!(auc(&[], &[1.0]).is_nan());
    }

    /// Labels that a linear score separates are fitted with probabilities on the right side of
    /// one half, and a useless feature gets a small weight.
    #[test]
    fn logistic_fits_a_separable_rule() {
        let n = 400;
        let x = DMatrix::<f32>::from_fn(n, 2, |r, c| {
            if c == 0 {
                (r as f32 / n as f32) * 4.0 - 2.0
            } else {
                ((r * 7919) % 13) as f32
            }
        });
        let y: Vec<bool> = (0..n).map(|r| x[(r, 0)] > 0.3).collect();
        let fit = Logistic::fit(&x, &y);
        for (r, &label) in y.iter().enumerate() {
            let p = fit.probability(&[x[(r, 0)], x[(r, 1)]]);
            if (x[(r, 0)] - 0.3).abs() > 0.3 {
                assert_eq!(p > 0.5, label, "row {r}: {p}");
            }
        }
        assert!(
            fit.weights[1].abs() < 0.1 * fit.weights[0].abs(),
            "{:?}",
            fit.weights
        );
    }

    /// A state that holds a fading trace of "someone is hidden" is read best right after the
    /// sighting and worse as the trace fades; an observation that never shows it reads nothing.
    #[test]
    fn presence_fades_with_a_fading_trace() {
        use super::super::HiddenActor;
        let mut rec = Recording {
            state_dim: 1,
            input_dim: 1,
            ..Recording::default()
        };
        let mut noise = 0.37f32;
        for episode in 0..40 {
            let start = rec.len();
            let hidden_from = if episode % 2 == 0 { Some(20) } else { None };
            for t in 0..80 {
                noise = (noise * 3.9 * (1.0 - noise)).clamp(0.01, 0.99);
                let since = hidden_from
                    .filter(|&h| t >= h)
                    .map(|h| (t - h) as f64 * 0.1);
                let trace = since.map_or(0.0, |s| (-s).exp() as f32);
                rec.push(
                    &[trace + 0.3 * noise],
                    &[noise],
                    since.map(|s| HiddenActor {
                        relative_m: [0.0, 0.0],
                        time_since_seen_s: s,
                    }),
                );
            }
            rec.episodes.push(start..rec.len());
        }
        let p = presence_probe(&rec);
        assert!(p.auc.len() >= 6, "{p:?}");
        assert!(p.auc[0] > 0.95, "{p:?}");
        assert!(p.auc[0] > p.auc[p.auc.len() - 1] + 0.05, "{p:?}");
        assert!(
            p.auc_current_only.iter().all(|&a| (a - 0.5).abs() < 0.2),
            "{p:?}"
        );
    }
}

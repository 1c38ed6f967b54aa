//! The memory curve of the episode being driven, step by step: readouts from a controller's
//! state to what it observed k steps ago are fitted beforehand on its own driving of *other*
//! seeds of the same scenario ([`LagReadouts::fit`]), then scored on the episode as it unfolds
//! ([`LiveCurve`]), one step at a time.
//!
//! Refitting a readout on one short episode cannot work: a few hundred highly correlated rows
//! against up to 512 state numbers overfit, and the held-out tail scores far below zero. Fitted
//! on thousands of rows of the same scenario, the readouts generalise to a new seed, and the
//! score is the held-out R² of this episode so far.

use super::Recording;
use super::ridge::{Ridge, column_variances};
use nalgebra::DMatrix;
use std::collections::VecDeque;

/// Rows of the episode an element's R² needs before it is counted.
const MIN_ROWS: usize = 20;
/// An element counts in an episode once it varies there at least this share of its variance
/// in the fitting data. Below it, R² divides by a variance so small that the slightest bias of
/// a readout fitted on other episodes reads as "not known", though the element is read well.
const MIN_VARIANCE_SHARE: f64 = 0.1;
/// Regularisation of the live readouts, relative to the mean diagonal of the standardised
/// `XᵀX`: a hundred times the memory curve's, because a new episode meets states the fitting
/// episodes rarely did (an RBF unit that fired in a handful of rows is, standardised, a huge
/// number when it fires), and a weakly regularised readout extrapolates wildly there.
const LIVE_RIDGE: f64 = 0.01;

/// Readouts from a state vector to the observation elements at lags 0…L, as one ridge map.
#[derive(Clone, Debug)]
pub struct LagReadouts {
    ridge: Ridge,
    /// Observation elements reconstructed (indices into an observation).
    elements: Vec<usize>,
    lags: usize,
    state_dim: usize,
    /// Per target column (lag-major, as the ridge's outputs): the least variance the episode
    /// must show there before its R² counts (`MIN_VARIANCE_SHARE` of the fitting data's).
    min_variance: Vec<f64>,
    /// Per target column: the range the fitting data spanned; predictions are clipped to it, so
    /// one state unlike any seen before cannot swamp the score.
    range: Vec<(f32, f32)>,
    /// Rows the readouts were fitted on.
    pub rows: usize,
}

impl LagReadouts {
    /// Fits readouts on every row of `rec` with `lags` earlier rows in its episode.
    pub fn fit(rec: &Recording, elements: &[usize], lags: usize) -> Self {
        let m = elements.len();
        let rows: Vec<usize> = rec
            .episodes
            .iter()
            .flat_map(|e| (e.start + lags).min(e.end)..e.end)
            .collect();
        // (rows, state_dim)
        let x = DMatrix::from_fn(rows.len(), rec.state_dim, |r, c| {
            rec.states[rows[r] * rec.state_dim + c]
        });
        // (rows, elements × (lags + 1)): block k holds the observation k steps before each row.
        let y = DMatrix::from_fn(rows.len(), m * (lags + 1), |r, c| {
            let (k, e) = (c / m.max(1), elements[c % m.max(1)]);
            rec.inputs[(rows[r] - k) * rec.input_dim + e]
        });
        let min_variance = column_variances(&y)
            .into_iter()
            .map(|v| MIN_VARIANCE_SHARE * v)
            .collect();
        let range = y
            .column_iter()
            .map(|c| {
                c.iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                        (lo.min(v), hi.max(v))
                    })
            })
            .collect();
        Self {
            ridge: Ridge::fit_with_ridge(&x, &y, LIVE_RIDGE),
            range,
            elements: elements.to_vec(),
            lags,
            state_dim: rec.state_dim,
            min_variance,
            rows: rows.len(),
        }
    }

    /// Length of the state vectors the readouts read.
    pub fn state_dim(&self) -> usize {
        self.state_dim
    }

    /// The largest lag.
    pub fn lags(&self) -> usize {
        self.lags
    }
}

/// Running sums of one target column over the episode: enough for its R² at any time.
#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    n: usize,
    sum: f64,
    sum_sq: f64,
    sse: f64,
}

/// The memory curve of one episode, scored step by step with fitted [`LagReadouts`].
#[derive(Clone, Debug)]
pub struct LiveCurve {
    /// Observations of the last L + 1 steps, newest last.
    recent: VecDeque<Vec<f32>>,
    /// Lag-major, as the readouts' outputs.
    sums: Vec<Sums>,
    steps: usize,
}

impl LiveCurve {
    /// An empty curve for `readouts`.
    pub fn new(readouts: &LagReadouts) -> Self {
        Self {
            recent: VecDeque::with_capacity(readouts.lags + 1),
            sums: vec![Sums::default(); readouts.min_variance.len()],
            steps: 0,
        }
    }

    /// Steps scored so far (from the step with L earlier steps on).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Scores one step: the controller's state after reading `observation`. A state of another
    /// length than the readouts read is ignored (it cannot come from the same model).
    pub fn push(&mut self, readouts: &LagReadouts, state: &[f32], observation: &[f32]) {
        if state.len() != readouts.state_dim {
            return;
        }
        let m = readouts.elements.len();
        if self.recent.len() > readouts.lags {
            self.recent.pop_front();
        }
        self.recent.push_back(observation.to_vec());
        // Scored, like the fitting rows, only once the whole past up to the largest lag is
        // there: states early in an episode are unlike the ones the readouts were fitted on.
        if self.recent.len() <= readouts.lags {
            return;
        }
        let predicted = readouts.ridge.predict_row(state);
        // `recent` ends with now: the observation k steps ago is `recent[len − 1 − k]`.
        for (k, past) in self.recent.iter().rev().enumerate() {
            for (e, &element) in readouts.elements.iter().enumerate() {
                let c = k * m + e;
                let (Some(&truth), Some(&guess), Some(s)) =
                    (past.get(element), predicted.get(c), self.sums.get_mut(c))
                else {
                    continue;
                };
                let (lo, hi) = readouts.range.get(c).copied().unwrap_or((guess, guess));
                let guess = if lo <= hi { guess.clamp(lo, hi) } else { guess };
                let (y, p) = (f64::from(truth), f64::from(guess));
                s.n += 1;
                s.sum += y;
                s.sum_sq += y * y;
                s.sse += (y - p) * (y - p);
            }
        }
        self.steps += 1;
    }

    /// Forgets the recent observations (a gap in the recording): scoring resumes L steps after
    /// the gap; the sums so far are kept.
    pub fn break_here(&mut self) {
        self.recent.clear();
    }

    /// R²(k) for k = 0…L, each the mean over the elements that varied enough in this episode
    /// of max(R², 0) (`None` for a lag with none yet). An element read worse than by always
    /// guessing its mean counts as not known (0), not as a penalty without bound: in one short
    /// episode a single rare element (a beam that met the truck at an angle never seen in
    /// fitting) can score −30 and would hide what the other 39 say.
    pub fn r2(&self, readouts: &LagReadouts) -> Vec<Option<f64>> {
        let m = readouts.elements.len().max(1);
        (0..=readouts.lags)
            .map(|k| {
                let scores: Vec<f64> = (k * m..(k + 1) * m)
                    .filter_map(|c| {
                        let s = self.sums.get(c)?;
                        if s.n < MIN_ROWS {
                            return None;
                        }
                        let n = s.n as f64;
                        let sst = s.sum_sq - s.sum * s.sum / n;
                        let floor = readouts.min_variance.get(c).copied().unwrap_or(0.0);
                        (sst > 1e-9 * n && sst >= floor * n).then(|| (1.0 - s.sse / sst).max(0.0))
                    })
                    .collect();
                (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A delay line of 3 steps (state = the last three inputs) driven by independent inputs:
    /// readouts fitted on one stream recover lags 0–2 on another (R² ≈ 1) and nothing beyond
    /// (R² ≈ 0), step by step.
    #[test]
    fn a_delay_line_scores_its_window_on_a_new_stream() {
        let stream = |seed: u64, steps: usize| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let inputs: Vec<f32> = (0..steps).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let states: Vec<f32> = (0..steps)
                .flat_map(|t| (0..3).map(move |k| if t >= k { t - k } else { usize::MAX }))
                .map(|i| inputs.get(i).copied().unwrap_or(0.0))
                .collect();
            Recording {
                state_dim: 3,
                input_dim: 1,
                states,
                inputs,
                episodes: std::iter::once(0..steps).collect(),
                hidden: vec![None; steps],
            }
        };
        let fitted = LagReadouts::fit(&stream(1, 2000), &[0], 5);
        let live = stream(2, 400);
        let mut curve = LiveCurve::new(&fitted);
        for t in 0..live.len() {
            curve.push(&fitted, &live.states[t * 3..t * 3 + 3], &live.inputs[t..=t]);
        }
        let r2: Vec<f64> = curve
            .r2(&fitted)
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect();
        for (k, &v) in r2.iter().enumerate() {
            if k < 3 {
                assert!(v > 0.99, "lag {k}: {r2:?}");
            } else {
                assert!(v.abs() < 0.1, "lag {k}: {r2:?}");
            }
        }
        // A state of the wrong length is ignored, not a panic.
        curve.push(&fitted, &[0.0; 7], &[0.0]);
        // Scored from the step with 5 earlier steps on.
        assert_eq!(curve.steps(), 395);
    }
}

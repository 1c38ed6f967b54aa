//! The RBF network: long-term memory in its centres, widths and output weights; no short-term
//! memory at all, since it sees only the current frame.
//!
//! Trained the classic way: centres by k-means++ and Lloyd iterations on (normalised)
//! observations, each width from the spacing of the centres, output weights by regularised
//! least squares (a Cholesky solve of the normal equations) onto the pre-`tanh` actions.
//!
//! By default the output layer also reads the normalised frame itself (a linear tail beside
//! the Gaussian units, as in RBF interpolation with a polynomial term): the units then only
//! have to fit what a linear map of the frame cannot. It changes nothing about memory — the
//! action is still a function of the current frame alone.

mod controller;
mod kind;

pub use controller::RbfController;
pub use kind::{KIND, Rbf};

use crate::kernels::squared_distance;
use crate::normaliser::Normaliser;
use crate::weights::{ObservationLayout, Tensor, TrainingInfo, WeightFile};
use memdrive_sim::parallel::map_ordered;
use nalgebra::DMatrix;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Hyper-parameters of the RBF network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbfConfig {
    /// Number of Gaussian units.
    pub units: usize,
    /// Each width is this times the distance from its centre to the nearest other centre.
    pub width_scale: f32,
    /// Ridge penalty, relative to the number of samples.
    pub ridge: f32,
    /// Lloyd iterations after k-means++ seeding.
    pub kmeans_iterations: usize,
    /// Largest number of samples the centres are fitted on (a random subset above it).
    pub kmeans_samples: usize,
    /// Whether the output layer also reads the normalised frame linearly (tensor
    /// `linear.weight`). Files written before it existed lack the field and have no tail.
    #[serde(default)]
    pub linear: bool,
    /// Extra weight of a safety-critical row (the expert braking at `CRITICAL_BRAKE_MPS2` or
    /// harder) in the output layer's least squares: such a row counts `1 + critical_weight`
    /// times. 0, the default, weighs every row alike and leaves it out of weight files (which
    /// files written before it existed lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_weight: f32,
    /// Below this speed (m/s) a braking label is fitted as 0 m/s²: at a standstill any braking
    /// just holds the car. 0 fits every label as it is and leaves it out of weight files
    /// (which files written before it existed lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub rest_hold_below_mps: f32,
    /// Share of the rows the centres are fitted on drawn from the safety-critical rows (as
    /// for `critical_weight`), so that more units sit where the expert brakes hard. 0, the
    /// default, draws them all at random and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_centres: f32,
}

impl Default for RbfConfig {
    fn default() -> Self {
        Self {
            units: 256,
            width_scale: 1.0,
            ridge: 1e-4,
            kmeans_iterations: 12,
            kmeans_samples: 20_000,
            linear: true,
            critical_weight: 0.0,
            rest_hold_below_mps: 0.0,
            critical_centres: 0.0,
        }
    }
}

impl RbfConfig {
    /// An error naming the first unusable value.
    pub fn validate(&self) -> Result<(), crate::Invalid> {
        use crate::bounds::*;
        let check = || -> Result<(), crate::Invalid> {
            count("units", self.units, 1, MAX_RBF_UNITS)?;
            above("width_scale", self.width_scale, 0.0, 1e3)?;
            if !(self.ridge.is_finite() && (0.0..=1e6).contains(&self.ridge)) {
                return Err(crate::Invalid::OutOfRange {
                    field: "ridge".into(),
                    low: "0".into(),
                    high: "1e6".into(),
                    value: memdrive_sim::scenario::compact(f64::from(self.ridge)),
                });
            }
            extra_weight("critical_weight", self.critical_weight)?;
            least_speed("rest_hold_below_mps", self.rest_hold_below_mps)?;
            share("critical_centres", self.critical_centres)?;
            count("kmeans_iterations", self.kmeans_iterations, 0, 100)?;
            count("kmeans_samples", self.kmeans_samples, self.units, 1_000_000)?;
            product(
                "kmeans_samples × units",
                &[self.kmeans_samples, self.units],
                MAX_KMEANS_WORK,
                "the distances of one k-means iteration",
            )
        };
        check().map_err(|why| why.in_config("RBF"))
    }
}

/// Pre-`tanh` `targets` (2 per row) with every braking label of a row slower than `below` (m/s,
/// by `speeds`) raised to 0 m/s², as the gradient-trained kinds' `rest_hold_below_mps` does to
/// their squashed labels. `None` when `below` is 0.
fn held_at_rest(targets: &[f32], speeds: &[f32], below: f32) -> Option<Vec<f32>> {
    if below <= 0.0 {
        return None;
    }
    let hold = crate::action::ActionScale::default().raw(memdrive_sim::Controls::default())[1];
    let mut held = targets.to_vec();
    for (row, &v) in speeds.iter().enumerate() {
        if v < below && held[2 * row + 1] < hold {
            held[2 * row + 1] = hold;
        }
    }
    Some(held)
}

/// Outputs: steering and acceleration (pre-`tanh`).
const OUTPUTS: usize = 2;

/// A fitted RBF network.
#[derive(Clone, Debug, PartialEq)]
pub struct RbfNetwork {
    config: RbfConfig,
    inputs: usize,
    /// (units, inputs), row-major.
    centres: Vec<f32>,
    /// (units,): 1 / (2 σ²) of each unit.
    inv_two_var: Vec<f32>,
    /// (outputs, units), row-major.
    weight: Vec<f32>,
    /// (outputs,).
    bias: Vec<f32>,
    /// (outputs, inputs), row-major: the linear tail; empty without one.
    linear: Vec<f32>,
}

/// Rows of the design matrix built and multiplied at once when fitting the output layer. Fixed,
/// so the sums (and the weights) do not depend on the thread count.
const BLOCK_ROWS: usize = 2048;

impl RbfNetwork {
    /// Fits the network to normalised `inputs` (row-major, `dim` columns) and pre-`tanh`
    /// `targets` (row-major, 2 columns).
    pub fn fit(
        config: RbfConfig,
        inputs: &[f32],
        dim: usize,
        targets: &[f32],
        rng: &mut ChaCha8Rng,
        threads: Option<usize>,
    ) -> Self {
        let rows = inputs.len() / dim;
        assert!(rows >= config.units && targets.len() == rows * OUTPUTS);
        let centres = kmeans(inputs, dim, targets, &config, rng);
        let units = config.units;
        let inv_two_var = (0..units)
            .map(|j| {
                let c = &centres[j * dim..(j + 1) * dim];
                let nearest = (0..units)
                    .filter(|&k| k != j)
                    .map(|k| squared_distance(c, &centres[k * dim..(k + 1) * dim]))
                    .fold(f32::INFINITY, f32::min)
                    .sqrt();
                let sigma = (config.width_scale * nearest).max(1e-3);
                1.0 / (2.0 * sigma * sigma)
            })
            .collect();
        let mut net = Self {
            config,
            inputs: dim,
            centres,
            inv_two_var,
            weight: vec![0.0; OUTPUTS * units],
            bias: vec![0.0; OUTPUTS],
            linear: Vec::new(),
        };
        if net.config.linear {
            net.linear = vec![0.0; OUTPUTS * dim];
        }
        net.fit_output(inputs, targets, threads);
        net
    }

    /// Inputs the linear tail reads (0 without one).
    fn tail(&self) -> usize {
        if self.config.linear { self.inputs } else { 0 }
    }

    /// One row of the output layer's design matrix: unit activations, the frame if there is a
    /// linear tail, then 1 for the bias.
    fn features(&self, x: &[f32], phi: &mut [f32], row: &mut [f64]) {
        self.activations(x, phi);
        let units = self.units();
        for (r, &p) in row.iter_mut().zip(phi.iter()) {
            *r = f64::from(p);
        }
        for (r, &v) in row[units..].iter_mut().zip(&x[..self.tail()]) {
            *r = f64::from(v);
        }
        row[units + self.tail()] = 1.0;
    }

    /// Regularised least squares for the output layer: (ΦᵀΦ + λnI) W = ΦᵀY with Φ the design
    /// matrix of `features`, bias unpenalised. ΦᵀΦ is summed over fixed blocks of rows, built in
    /// parallel and added in order, so the result does not depend on `threads`.
    fn fit_output(&mut self, inputs: &[f32], targets: &[f32], threads: Option<usize>) {
        let (units, tail) = (self.units(), self.tail());
        let features = units + tail + 1;
        let rows = inputs.len() / self.inputs;
        let critical = crate::train::critical_label().atanh();
        let heavy = (1.0 + f64::from(self.config.critical_weight)).sqrt();
        let blocks: Vec<std::ops::Range<usize>> = (0..rows)
            .step_by(BLOCK_ROWS)
            .map(|start| start..(start + BLOCK_ROWS).min(rows))
            .collect();
        let partial = map_ordered(
            &blocks,
            threads,
            || (vec![0.0f32; units], vec![0.0f64; features]),
            |(phi, row), block| {
                let mut design = DMatrix::<f64>::zeros(block.len(), features);
                let mut y = DMatrix::<f64>::zeros(block.len(), OUTPUTS);
                for (i, r) in block.clone().enumerate() {
                    self.features(&inputs[r * self.inputs..(r + 1) * self.inputs], phi, row);
                    // Weighted least squares: a row of weight w enters as √w times itself.
                    let w = if self.config.critical_weight > 0.0
                        && targets[r * OUTPUTS + 1] <= critical
                    {
                        heavy
                    } else {
                        1.0
                    };
                    for (j, &v) in row.iter().enumerate() {
                        design[(i, j)] = w * v;
                    }
                    for o in 0..OUTPUTS {
                        y[(i, o)] = w * f64::from(targets[r * OUTPUTS + o]);
                    }
                }
                (design.tr_mul(&design), design.tr_mul(&y))
            },
        );
        let mut gram = DMatrix::<f64>::zeros(features, features);
        let mut rhs = DMatrix::<f64>::zeros(features, OUTPUTS);
        for (g, r) in &partial {
            gram += g;
            rhs += r;
        }
        let n = rows as f64;
        for j in 0..units + tail {
            gram[(j, j)] += f64::from(self.config.ridge) * n;
        }
        // A tiny jitter keeps the bias row positive definite even for degenerate data.
        gram[(units + tail, units + tail)] += 1e-9 * n;
        let solution = match gram.clone().cholesky() {
            Some(ch) => ch.solve(&rhs),
            None => gram
                .lu()
                .solve(&rhs)
                .unwrap_or_else(|| DMatrix::zeros(features, OUTPUTS)),
        };
        for o in 0..OUTPUTS {
            for j in 0..units {
                self.weight[o * units + j] = solution[(j, o)] as f32;
            }
            for j in 0..tail {
                self.linear[o * tail + j] = solution[(units + j, o)] as f32;
            }
            self.bias[o] = solution[(units + tail, o)] as f32;
        }
    }

    /// Number of Gaussian units.
    pub fn units(&self) -> usize {
        self.config.units
    }

    /// The configuration.
    pub fn config(&self) -> &RbfConfig {
        &self.config
    }

    /// Activation of every unit for the normalised input `x`.
    pub fn activations(&self, x: &[f32], out: &mut [f32]) {
        for ((o, c), k) in out
            .iter_mut()
            .zip(self.centres.chunks_exact(self.inputs))
            .zip(&self.inv_two_var)
        {
            *o = (-squared_distance(x, c) * k).exp();
        }
    }

    /// How much the squashed action depends on the normalised input `x`: the Frobenius norm of
    /// `∂tanh(y)/∂x` (2 × inputs). With `φ_i = exp(−k_i ‖x − c_i‖²)`,
    /// `∂φ_i/∂x = −2 k_i φ_i (x − c_i)`. Nothing else enters the action, so the influence of
    /// any earlier frame is zero.
    pub fn input_influence(&self, x: &[f32]) -> f64 {
        let mut phi = vec![0.0; self.units()];
        self.activations(x, &mut phi);
        let y = self.output(x, &phi);
        let (units, tail) = (self.units(), self.tail());
        let mut squares = 0.0f64;
        for (o, yo) in y.iter().enumerate() {
            let slope = 1.0 - yo.tanh().powi(2);
            let mut dx = vec![0.0f32; self.inputs];
            for (d, w) in dx.iter_mut().zip(&self.linear[o * tail..(o + 1) * tail]) {
                *d += w * slope;
            }
            for (i, c) in self.centres.chunks_exact(self.inputs).enumerate() {
                let g = self.weight[o * units + i] * -2.0 * self.inv_two_var[i] * phi[i] * slope;
                for ((d, xi), ci) in dx.iter_mut().zip(x).zip(c) {
                    *d += g * (xi - ci);
                }
            }
            squares += dx.iter().map(|v| f64::from(v * v)).sum::<f64>();
        }
        squares.sqrt()
    }

    /// Raw outputs (pre-`tanh`) for the normalised frame `x` and its unit activations.
    pub fn output(&self, x: &[f32], activations: &[f32]) -> [f32; 2] {
        let (units, tail) = (self.units(), self.tail());
        std::array::from_fn(|o| {
            let w = &self.weight[o * units..(o + 1) * units];
            let v = &self.linear[o * tail..(o + 1) * tail];
            self.bias[o]
                + w.iter().zip(activations).map(|(a, b)| a * b).sum::<f32>()
                + v.iter().zip(x).map(|(a, b)| a * b).sum::<f32>()
        })
    }

    /// The tensors of a weight file.
    pub fn tensors(&self) -> BTreeMap<String, Tensor> {
        let units = self.units();
        let mut tensors = BTreeMap::from([
            (
                "rbf.centres".to_owned(),
                Tensor::new(vec![units, self.inputs], self.centres.clone()),
            ),
            (
                "rbf.inv_two_var".to_owned(),
                Tensor::new(vec![units], self.inv_two_var.clone()),
            ),
            (
                "head.weight".to_owned(),
                Tensor::new(vec![OUTPUTS, units], self.weight.clone()),
            ),
            (
                "head.bias".to_owned(),
                Tensor::new(vec![OUTPUTS], self.bias.clone()),
            ),
        ]);
        if self.config.linear {
            tensors.insert(
                "linear.weight".to_owned(),
                Tensor::new(vec![OUTPUTS, self.inputs], self.linear.clone()),
            );
        }
        tensors
    }

    /// Rebuilds the network from a loaded file, checking every shape against the config.
    pub fn from_weights(file: &mut WeightFile) -> Result<Self, crate::Invalid> {
        let config: RbfConfig = file.config("RBF", RbfConfig::validate)?;
        let inputs = file.normaliser.dim();
        let units = config.units;
        let centres = file.take("rbf.centres", &[units, inputs])?;
        let inv_two_var = file.take("rbf.inv_two_var", &[units])?;
        if let Some(index) = inv_two_var.iter().position(|&v| v <= 0.0) {
            return Err(crate::Invalid::BadValue {
                name: "rbf.inv_two_var".into(),
                must: "positive",
                value: inv_two_var[index],
                index,
            });
        }
        let weight = file.take("head.weight", &[OUTPUTS, units])?;
        let bias = file.take("head.bias", &[OUTPUTS])?;
        let linear = if config.linear {
            file.take("linear.weight", &[OUTPUTS, inputs])?
        } else {
            Vec::new()
        };
        file.no_extra_tensors()?;
        Ok(Self {
            config,
            inputs,
            centres,
            inv_two_var,
            weight,
            bias,
            linear,
        })
    }

    /// A complete weight file for this network.
    pub fn to_weight_file(
        &self,
        observation: ObservationLayout,
        normaliser: Normaliser,
        training: TrainingInfo,
    ) -> WeightFile {
        WeightFile {
            kind: KIND,
            config: serde_json::to_value(&self.config).unwrap_or_default(),
            observation,
            normaliser,
            training,
            tensors: self.tensors(),
        }
    }
}

/// k-means++ seeding then Lloyd iterations on at most `kmeans_samples` rows.
fn kmeans(
    inputs: &[f32],
    dim: usize,
    targets: &[f32],
    config: &RbfConfig,
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    let rows = inputs.len() / dim;
    let sample: Vec<usize> = if config.critical_centres > 0.0 {
        let hard = crate::train::critical_label().atanh();
        let critical: Vec<usize> = (0..rows)
            .filter(|&r| targets[r * OUTPUTS + 1] <= hard)
            .collect();
        let wanted = (config.critical_centres * config.kmeans_samples as f32) as usize;
        let from_critical = wanted.min(critical.len());
        let mut sample: Vec<usize> = rand::seq::index::sample(rng, critical.len(), from_critical)
            .into_iter()
            .map(|i| critical[i])
            .collect();
        let rest = (config.kmeans_samples - from_critical).min(rows);
        sample.extend(rand::seq::index::sample(rng, rows, rest));
        sample
    } else if rows > config.kmeans_samples {
        rand::seq::index::sample(rng, rows, config.kmeans_samples).into_vec()
    } else {
        (0..rows).collect()
    };
    let point = |i: usize| &inputs[sample[i] * dim..(sample[i] + 1) * dim];
    let n = sample.len();
    let k = config.units;
    let mut centres = Vec::with_capacity(k * dim);
    centres.extend_from_slice(point(rng.random_range(0..n)));
    let mut nearest: Vec<f32> = (0..n)
        .map(|i| squared_distance(point(i), &centres[..dim]))
        .collect();
    while centres.len() < k * dim {
        let total: f64 = nearest.iter().map(|&d| f64::from(d)).sum();
        let pick = if total > 0.0 {
            let mut target = rng.random_range(0.0..total);
            nearest
                .iter()
                .position(|&d| {
                    target -= f64::from(d);
                    target <= 0.0
                })
                .unwrap_or(n - 1)
        } else {
            rng.random_range(0..n)
        };
        let start = centres.len();
        centres.extend_from_slice(point(pick));
        let new = centres[start..].to_vec();
        for (i, d) in nearest.iter_mut().enumerate() {
            *d = d.min(squared_distance(point(i), &new));
        }
    }
    let mut assignment = vec![0usize; n];
    for _ in 0..config.kmeans_iterations {
        for (i, a) in assignment.iter_mut().enumerate() {
            let p = point(i);
            *a = (0..k)
                .map(|j| (j, squared_distance(p, &centres[j * dim..(j + 1) * dim])))
                .fold(
                    (0, f32::INFINITY),
                    |best, c| if c.1 < best.1 { c } else { best },
                )
                .0;
        }
        let mut sums = vec![0.0f64; k * dim];
        let mut counts = vec![0usize; k];
        for (i, &a) in assignment.iter().enumerate() {
            counts[a] += 1;
            for (s, &x) in sums[a * dim..(a + 1) * dim].iter_mut().zip(point(i)) {
                *s += f64::from(x);
            }
        }
        for j in 0..k {
            // An empty cluster keeps its centre.
            if counts[j] > 0 {
                for (c, s) in centres[j * dim..(j + 1) * dim]
                    .iter_mut()
                    .zip(&sums[j * dim..(j + 1) * dim])
                {
                    *c = (*s / counts[j] as f64) as f32;
                }
            }
        }
    }
    centres
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// One input, two labels for it: a hard braking and a gentle one. Unweighted, the fit
    /// predicts their mean; with `critical_weight` 3 the hard one counts four times.
    #[test]
    fn critical_rows_weigh_more_in_the_fit() {
        let scale = crate::action::ActionScale::default();
        let brake = |a: f64| {
            scale.raw(memdrive_sim::Controls {
                steer_rad: 0.0,
                accel_mps2: a,
            })[1]
        };
        let (hard, gentle) = (brake(-6.0), brake(-1.0));
        assert!(hard <= brake(-f64::from(crate::train::CRITICAL_BRAKE_MPS2)) && gentle > hard);
        let inputs = vec![0.0f32; 200];
        let targets: Vec<f32> = (0..200)
            .flat_map(|i| [0.0, if i % 2 == 0 { hard } else { gentle }])
            .collect();
        let fitted = |critical_weight: f32| {
            let config = RbfConfig {
                units: 1,
                linear: false,
                critical_weight,
                ..RbfConfig::default()
            };
            let net = RbfNetwork::fit(
                config,
                &inputs,
                1,
                &targets,
                &mut ChaCha8Rng::seed_from_u64(5),
                None,
            );
            let mut phi = vec![0.0; 1];
            net.activations(&[0.0], &mut phi);
            net.output(&[0.0], &phi)[1]
        };
        let near = |got: f32, want: f32| assert!((got - want).abs() < 1e-3, "{got} vs {want}");
        near(fitted(0.0), 0.5 * (hard + gentle));
        near(fitted(3.0), (4.0 * hard + gentle) / 5.0);
    }

    /// With `critical_centres` half of the rows the centres are fitted on are hard brakings:
    /// one centre over 1,000 gentle rows at 0 and 10 hard ones at 5 moves from near 0 to
    /// halfway.
    #[test]
    fn critical_centres_draw_centres_towards_hard_braking() {
        let scale = crate::action::ActionScale::default();
        let accel = |a: f64| {
            scale.raw(memdrive_sim::Controls {
                steer_rad: 0.0,
                accel_mps2: a,
            })[1]
        };
        let (inputs, targets): (Vec<f32>, Vec<f32>) = (0..1010)
            .map(|i| if i < 1000 { (0.0, accel(0.5)) } else { (5.0, accel(-6.0)) })
            .unzip();
        let targets: Vec<f32> = targets.into_iter().flat_map(|a| [0.0, a]).collect();
        let centre = |critical_centres: f32| {
            let config = RbfConfig {
                units: 1,
                kmeans_samples: 20,
                critical_centres,
                ..RbfConfig::default()
            };
            let mut rng = ChaCha8Rng::seed_from_u64(6);
            RbfNetwork::fit(config, &inputs, 1, &targets, &mut rng, None).centres[0]
        };
        assert!(centre(0.0) < 1.0, "{}", centre(0.0));
        assert!((centre(0.5) - 2.5).abs() < 0.3, "{}", centre(0.5));
    }

    /// The two settings are left out of weight files at 0 (so files written before them are
    /// their own bytes when saved again), written otherwise, and checked.
    #[test]
    fn critical_weight_and_hold_are_checked_and_written_only_when_set() {
        let with = |critical_weight: f32, rest_hold_below_mps: f32| RbfConfig {
            critical_weight,
            rest_hold_below_mps,
            ..RbfConfig::default()
        };
        let json = |c: &RbfConfig| serde_json::to_string(c).unwrap_or_default();
        assert!(with(0.0, 0.0).validate().is_ok());
        assert!(!json(&with(0.0, 0.0)).contains("critical_weight"));
        assert!(!json(&with(0.0, 0.0)).contains("rest_hold"));
        assert!(with(8.0, 0.05).validate().is_ok());
        assert!(json(&with(8.0, 0.05)).contains("\"critical_weight\":8.0"));
        assert!(json(&with(8.0, 0.05)).contains("rest_hold_below_mps"));
        for (weight, hold, says) in [
            (-1.0, 0.0, "critical_weight"),
            (f32::NAN, 0.0, "critical_weight"),
            (f32::INFINITY, 0.0, "critical_weight"),
            (1.0, -0.5, "rest_hold_below_mps"),
            (1.0, f32::NAN, "rest_hold_below_mps"),
        ] {
            let err = with(weight, hold)
                .validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(says), "{weight} {hold}: {err}");
        }
    }

    /// Below the hold speed a braking label becomes "no acceleration"; pulling away, steering
    /// and every row at speed keep theirs; 0 holds nothing.
    #[test]
    fn braking_labels_at_rest_are_held() {
        let scale = crate::action::ActionScale::default();
        let raw = |steer: f64, a: f64| {
            scale.raw(memdrive_sim::Controls {
                steer_rad: steer,
                accel_mps2: a,
            })
        };
        let hold = raw(0.0, 0.0)[1];
        let targets: Vec<f32> = [raw(0.1, -5.0), raw(0.0, 1.5), raw(-0.1, -5.0)].concat();
        let speeds = [0.01, 0.01, 3.0];
        assert_eq!(held_at_rest(&targets, &speeds, 0.0), None);
        let held = held_at_rest(&targets, &speeds, 0.05).unwrap_or_default();
        assert_eq!(held[0], targets[0]);
        assert_eq!(held[1], hold);
        assert_eq!(&held[2..], &targets[2..]);
    }

    /// Two well separated clusters with different targets: the fit reproduces the targets at
    /// the cluster centres.
    #[test]
    fn fits_a_function_of_clustered_inputs() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut inputs = Vec::new();
        let mut targets = Vec::new();
        for i in 0..400 {
            let side = if i % 2 == 0 { -3.0 } else { 3.0 };
            let jitter: f32 = rng.random_range(-0.1..0.1);
            inputs.extend_from_slice(&[side + jitter, 0.5 * jitter]);
            targets.extend_from_slice(&[side / 3.0, -side / 6.0]);
        }
        let config = RbfConfig {
            units: 2,
            ..RbfConfig::default()
        };
        let net = RbfNetwork::fit(config, &inputs, 2, &targets, &mut rng, None);
        let mut phi = vec![0.0; 2];
        for (x, want) in [([-3.0, 0.0], [-1.0, 0.5]), ([3.0, 0.0], [1.0, -0.5])] {
            net.activations(&x, &mut phi);
            let got = net.output(&x, &phi);
            assert!(
                (got[0] - want[0]).abs() < 0.05 && (got[1] - want[1]).abs() < 0.05,
                "{got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn an_input_at_a_centre_activates_it_fully() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let inputs: Vec<f32> = (0..200).map(|i| (i % 7) as f32).collect();
        let targets = vec![0.0; 400];
        let net = RbfNetwork::fit(
            RbfConfig {
                units: 3,
                ..RbfConfig::default()
            },
            &inputs,
            1,
            &targets,
            &mut rng,
            None,
        );
        let mut phi = vec![0.0; 3];
        net.activations(&net.centres[..1], &mut phi);
        assert!((phi[0] - 1.0).abs() < 1e-6);
        assert!(phi.iter().all(|&p| p > 0.0 && p <= 1.0));
    }

    /// A linear function of a wide input: two units cannot fit it, the linear tail does; and
    /// the fit is the same on one thread or two (its sums run over fixed blocks of rows).
    #[test]
    fn the_linear_tail_fits_what_the_units_cannot_whatever_the_thread_count() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let dim = 6;
        let rows = BLOCK_ROWS + 500;
        let inputs: Vec<f32> = (0..rows * dim)
            .map(|_| rng.random_range(-2.0..2.0))
            .collect();
        let targets: Vec<f32> = inputs
            .chunks_exact(dim)
            .flat_map(|x| [0.5 * x[0] - 0.25 * x[3], 0.1 + 0.3 * x[5]])
            .collect();
        let fit = |linear: bool, threads: usize| {
            let config = RbfConfig {
                units: 2,
                linear,
                ..RbfConfig::default()
            };
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            RbfNetwork::fit(config, &inputs, dim, &targets, &mut rng, Some(threads))
        };
        let worst = |net: &RbfNetwork| {
            let mut phi = vec![0.0; 2];
            inputs
                .chunks_exact(dim)
                .zip(targets.chunks_exact(OUTPUTS))
                .map(|(x, t)| {
                    net.activations(x, &mut phi);
                    let y = net.output(x, &phi);
                    (y[0] - t[0]).abs().max((y[1] - t[1]).abs())
                })
                .fold(0.0f32, f32::max)
        };
        let (with_tail, without) = (fit(true, 1), fit(false, 1));
        assert!(worst(&with_tail) < 0.01, "{}", worst(&with_tail));
        assert!(worst(&without) > 0.5, "{}", worst(&without));
        assert_eq!(with_tail, fit(true, 2));
        assert_eq!(with_tail.tensors().len(), 5);
        assert_eq!(without.tensors().len(), 4);
    }
}

//! The recurrent network: a GRU whose hidden state carries what it saw, fading as the update
//! gate lets it, and a linear head reading the action out of the state.
//!
//! Gates follow PyTorch's `nn.GRU` (order r, z, n in the stacked weights):
//!
//! ```text
//! r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//! z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//! n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h
//! y  = W_head h' + b_head          (then tanh into the car's limits)
//! ```
//!
//! The network is immutable while it steps; the hidden state is a value the caller owns. The
//! backward pass is backpropagation through time over a window of steps, checked against
//! finite differences in the tests.

use crate::kernels::{affine, gemm_acc, transposed};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the GRU controller and its training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GruConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Adam step size.
    pub learning_rate: f32,
    /// Largest global gradient norm.
    pub clip_norm: f32,
    /// Steps per training window (backpropagation through time runs over all of them).
    pub window: usize,
    /// Leading steps of a window that only warm the hidden state up (no loss), unless the
    /// window starts at the beginning of its episode, where the state is truly zero.
    pub burn_in: usize,
    /// Windows per gradient step.
    pub batch: usize,
    /// Gradient steps in each training round.
    pub steps_per_round: usize,
    /// Within each round the step size follows a cosine from `learning_rate` down to this
    /// fraction of it, and starts again at the next round (aggregated data, warm restart).
    /// Files written before it existed lack the field: 1, a constant step size.
    #[serde(default = "constant_rate")]
    pub final_rate_fraction: f32,
    /// Weight of the auxiliary presence loss: a logistic head on the hidden state, trained to
    /// tell whether a pedestrian the car saw is hidden ahead now (ground truth, in training
    /// only; the head is not part of the controller). 0 turns it off; files written before it
    /// existed lack the field: 0.
    #[serde(default)]
    pub presence_loss: f32,
}

/// A step size that does not decay.
fn constant_rate() -> f32 {
    1.0
}

/// The step size at `step` of `steps` under a cosine from `base` down to `base · fraction`.
pub fn cosine_rate(base: f32, fraction: f32, step: usize, steps: usize) -> f32 {
    let progress = step as f32 / steps.max(1) as f32;
    let floor = base * fraction;
    floor + (base - floor) * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos())
}

impl Default for GruConfig {
    fn default() -> Self {
        Self {
            hidden: 64,
            learning_rate: 2e-3,
            clip_norm: 1.0,
            window: 96,
            burn_in: 16,
            batch: 16,
            steps_per_round: 1500,
            final_rate_fraction: 0.05,
            presence_loss: 0.5,
        }
    }
}

impl GruConfig {
    /// An error naming the first unusable value: the one check of a GRU configuration, for
    /// training and for weight files alike.
    pub fn validate(&self) -> std::result::Result<(), String> {
        use crate::bounds::*;
        let check = || -> std::result::Result<(), String> {
            count("hidden", self.hidden, 1, MAX_WIDTH)?;
            optimiser(
                self.learning_rate,
                self.clip_norm,
                self.batch,
                self.steps_per_round,
            )?;
            count("window", self.window, 2, MAX_WINDOW_STEPS)?;
            count("burn_in", self.burn_in, 0, self.window - 1)?;
            above("final_rate_fraction", self.final_rate_fraction, 0.0, 1.0)?;
            presence_weight(self.presence_loss)?;
            gradient_steps(
                "hidden",
                self.steps_per_round,
                self.batch,
                self.window,
                self.hidden,
            )
        };
        check().map_err(|why| format!("GRU config: {why}"))
    }
}

/// Outputs: steering and acceleration (pre-`tanh`).
const OUTPUTS: usize = 2;

/// The GRU's parameters, row-major, shapes as in PyTorch.
#[derive(Clone, Debug, PartialEq)]
pub struct GruParams {
    /// Observation elements.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// (3H, I): input weights of the r, z, n gates, stacked.
    pub weight_ih: Vec<f32>,
    /// (3H, H): recurrent weights of the r, z, n gates, stacked.
    pub weight_hh: Vec<f32>,
    /// (3H,).
    pub bias_ih: Vec<f32>,
    /// (3H,).
    pub bias_hh: Vec<f32>,
    /// (2, H).
    pub head_weight: Vec<f32>,
    /// (2,).
    pub head_bias: Vec<f32>,
    /// (H,): the auxiliary presence head, trained only (never written to a weight file).
    pub presence_weight: Vec<f32>,
    /// (1,).
    pub presence_bias: Vec<f32>,
}

/// What one step computed, kept for the backward pass.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepCache {
    x: Vec<f32>,
    h_prev: Vec<f32>,
    r: Vec<f32>,
    z: Vec<f32>,
    n: Vec<f32>,
    /// W_hn h + b_hn, before the reset gate scales it.
    hn: Vec<f32>,
    h: Vec<f32>,
}

impl StepCache {
    /// Update gate of the step.
    pub fn update_gate(&self) -> &[f32] {
        &self.z
    }

    /// Reset gate of the step.
    pub fn reset_gate(&self) -> &[f32] {
        &self.r
    }

    /// Hidden state after the step.
    pub fn hidden(&self) -> &[f32] {
        &self.h
    }
}

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// `out += Wᵀ g` for row-major `w` of shape (g.len(), out.len()).
fn add_transposed(w: &[f32], g: &[f32], out: &mut [f32]) {
    for (row, &gi) in w.chunks_exact(out.len()).zip(g) {
        for (o, &wij) in out.iter_mut().zip(row) {
            *o += wij * gi;
        }
    }
}

/// `w += g ⊗ x` (outer product) for row-major `w` of shape (g.len(), x.len()).
fn add_outer(w: &mut [f32], g: &[f32], x: &[f32]) {
    for (row, &gi) in w.chunks_exact_mut(x.len()).zip(g) {
        for (wij, &xj) in row.iter_mut().zip(x) {
            *wij += gi * xj;
        }
    }
}

impl GruParams {
    /// Parameters drawn uniformly from ±1/√H, as PyTorch initialises a GRU.
    pub fn init(inputs: usize, hidden: usize, rng: &mut impl rand::Rng) -> Self {
        use rand::RngExt;
        let bound = 1.0 / (hidden as f32).sqrt();
        let mut draw =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-bound..bound)).collect() };
        Self {
            inputs,
            hidden,
            weight_ih: draw(3 * hidden * inputs),
            weight_hh: draw(3 * hidden * hidden),
            bias_ih: draw(3 * hidden),
            bias_hh: draw(3 * hidden),
            head_weight: draw(OUTPUTS * hidden),
            head_bias: vec![0.0; OUTPUTS],
            // Zeros, drawing nothing: without the presence loss training is what it was.
            presence_weight: vec![0.0; hidden],
            presence_bias: vec![0.0],
        }
    }

    /// Zeros of the same shapes (for gradients and optimiser moments).
    pub fn zeros_like(&self) -> Self {
        let z = |v: &Vec<f32>| vec![0.0; v.len()];
        Self {
            inputs: self.inputs,
            hidden: self.hidden,
            weight_ih: z(&self.weight_ih),
            weight_hh: z(&self.weight_hh),
            bias_ih: z(&self.bias_ih),
            bias_hh: z(&self.bias_hh),
            head_weight: z(&self.head_weight),
            head_bias: z(&self.head_bias),
            presence_weight: z(&self.presence_weight),
            presence_bias: z(&self.presence_bias),
        }
    }

    /// Every tensor with its PyTorch-style name, in a fixed order.
    pub fn named(&self) -> [(&'static str, &Vec<f32>); 6] {
        [
            ("gru.weight_ih", &self.weight_ih),
            ("gru.weight_hh", &self.weight_hh),
            ("gru.bias_ih", &self.bias_ih),
            ("gru.bias_hh", &self.bias_hh),
            ("head.weight", &self.head_weight),
            ("head.bias", &self.head_bias),
        ]
    }

    /// Every tensor, mutable, in the order of `named`.
    pub fn tensors_mut(&mut self) -> [&mut Vec<f32>; 6] {
        let [a, b, c, d, e, f, _, _] = self.trainable_mut();
        [a, b, c, d, e, f]
    }

    /// Every trained tensor: those of `named`, then the presence head's (not in weight files).
    pub fn trainable(&self) -> [&Vec<f32>; 8] {
        let [a, b, c, d, e, f] = self.named().map(|(_, t)| t);
        [a, b, c, d, e, f, &self.presence_weight, &self.presence_bias]
    }

    /// Every trained tensor, mutable, in the order of `trainable`.
    pub fn trainable_mut(&mut self) -> [&mut Vec<f32>; 8] {
        [
            &mut self.weight_ih,
            &mut self.weight_hh,
            &mut self.bias_ih,
            &mut self.bias_hh,
            &mut self.head_weight,
            &mut self.head_bias,
            &mut self.presence_weight,
            &mut self.presence_bias,
        ]
    }

    /// Shape of each tensor, in the order of `named`.
    pub fn shapes(inputs: usize, hidden: usize) -> [Vec<usize>; 6] {
        [
            vec![3 * hidden, inputs],
            vec![3 * hidden, hidden],
            vec![3 * hidden],
            vec![3 * hidden],
            vec![OUTPUTS, hidden],
            vec![OUTPUTS],
        ]
    }

    /// One step from hidden state `h` on input `x`; everything it computed.
    pub fn step(&self, x: &[f32], h: &[f32]) -> StepCache {
        let mut gi = vec![0.0; 3 * self.hidden];
        affine(&self.weight_ih, &self.bias_ih, x, &mut gi); // (3H,)
        self.step_from(x, &gi, h)
    }

    /// One step given the input side of the gates, `gi = W_ih x + b_ih` (3H,).
    fn step_from(&self, x: &[f32], gi: &[f32], h: &[f32]) -> StepCache {
        let hidden = self.hidden;
        let mut gh = vec![0.0; 3 * hidden];
        affine(&self.weight_hh, &self.bias_hh, h, &mut gh); // (3H,)
        let r: Vec<f32> = (0..hidden).map(|k| sigmoid(gi[k] + gh[k])).collect();
        let z: Vec<f32> = (0..hidden)
            .map(|k| sigmoid(gi[hidden + k] + gh[hidden + k]))
            .collect();
        let hn = gh[2 * hidden..].to_vec();
        let n: Vec<f32> = (0..hidden)
            .map(|k| (gi[2 * hidden + k] + r[k] * hn[k]).tanh())
            .collect();
        let h_new = (0..hidden)
            .map(|k| (1.0 - z[k]) * n[k] + z[k] * h[k])
            .collect();
        StepCache {
            x: x.to_vec(),
            h_prev: h.to_vec(),
            r,
            z,
            n,
            hn,
            h: h_new,
        }
    }

    /// Raw outputs (pre-`tanh`) read from hidden state `h`.
    pub fn head(&self, h: &[f32]) -> [f32; 2] {
        let mut y = [0.0; OUTPUTS];
        affine(&self.head_weight, &self.head_bias, h, &mut y);
        y
    }

    /// Forward over a window from hidden state `h0`; returns the caches of every step. The
    /// input side of the gates, which needs no recurrence, is one matrix product for the whole
    /// window.
    pub fn forward(&self, xs: &[f32], h0: &[f32]) -> Vec<StepCache> {
        let (steps, gates) = (xs.len() / self.inputs, 3 * self.hidden);
        // Column-major, (3H × steps) = W_ih (3H × I) · Xᵀ (I × steps) is row-major (steps × 3H).
        let mut gi: Vec<f32> = (0..steps)
            .flat_map(|_| self.bias_ih.iter().copied())
            .collect();
        let w = transposed(&self.weight_ih, gates, self.inputs);
        gemm_acc(&w, xs, &mut gi, gates, self.inputs, steps);
        let mut h = h0.to_vec();
        xs.chunks_exact(self.inputs)
            .zip(gi.chunks_exact(gates))
            .map(|(x, gi)| {
                let c = self.step_from(x, gi, &h);
                h.clone_from(&c.h);
                c
            })
            .collect()
    }

    /// Loss of a window: mean over `(step, output)` for steps at or after `from` of
    /// `(tanh(y) − target)²`, where `targets` holds 2 squashed actions per step; with
    /// `presence = Some((labels, λ))`, plus λ times the mean binary cross-entropy of the
    /// presence head `σ(w·h + b)` against one 0/1 label per step. Adds the gradient of that
    /// loss to `grads` (backpropagation through time) and returns the loss.
    pub fn loss_and_grad(
        &self,
        caches: &[StepCache],
        targets: &[f32],
        presence: Option<(&[f32], f32)>,
        from: usize,
        grads: &mut Self,
    ) -> f64 {
        let hidden = self.hidden;
        let (steps, gates) = (caches.len(), 3 * hidden);
        let counted = (steps.saturating_sub(from) * OUTPUTS).max(1) as f32;
        let counted_steps = steps.saturating_sub(from).max(1) as f32;
        let mut loss = 0.0f64;
        let mut presence_loss = 0.0f64;
        let mut dh_next = vec![0.0f32; hidden];
        // Gate gradients of every step, row-major (3H, steps): the weight gradients are then
        // one matrix product each.
        let mut dgi_all = vec![0.0f32; steps * gates];
        let mut dgh_all = vec![0.0f32; steps * gates];
        for (t, c) in caches.iter().enumerate().rev() {
            let mut dh = dh_next.clone();
            if t >= from {
                let y = self.head(&c.h);
                let mut dy = [0.0f32; OUTPUTS];
                for o in 0..OUTPUTS {
                    let a = y[o].tanh();
                    let err = a - targets[t * OUTPUTS + o];
                    loss += f64::from(err * err);
                    dy[o] = 2.0 * err / counted * (1.0 - a * a);
                }
                add_outer(&mut grads.head_weight, &dy, &c.h);
                for (g, d) in grads.head_bias.iter_mut().zip(&dy) {
                    *g += d;
                }
                add_transposed(&self.head_weight, &dy, &mut dh);
                if let Some((labels, weight)) = presence {
                    let logit = self.presence_logit(&c.h);
                    let label = labels[t];
                    // Cross-entropy from the logit, stable for large |logit|.
                    presence_loss +=
                        f64::from(logit.max(0.0) - logit * label + (-logit.abs()).exp().ln_1p());
                    let d = weight * (sigmoid(logit) - label) / counted_steps;
                    for (g, &h) in grads.presence_weight.iter_mut().zip(&c.h) {
                        *g += d * h;
                    }
                    grads.presence_bias[0] += d;
                    for (dk, &w) in dh.iter_mut().zip(&self.presence_weight) {
                        *dk += d * w;
                    }
                }
            }
            let (dgi, dgh, mut dh_prev) = cell_backward(c, &dh);
            for (g, d) in grads.bias_ih.iter_mut().zip(&dgi) {
                *g += d;
            }
            for (g, d) in grads.bias_hh.iter_mut().zip(&dgh) {
                *g += d;
            }
            add_transposed(&self.weight_hh, &dgh, &mut dh_prev);
            for (g, (&di, &dh)) in dgi.iter().zip(&dgh).enumerate() {
                dgi_all[g * steps + t] = di;
                dgh_all[g * steps + t] = dh;
            }
            dh_next = dh_prev;
        }
        let xs: Vec<f32> = caches.iter().flat_map(|c| c.x.iter().copied()).collect();
        let hs: Vec<f32> = caches
            .iter()
            .flat_map(|c| c.h_prev.iter().copied())
            .collect();
        // Column-major, (I × 3H) = Xᵀ (I × steps) · dGI (steps × 3H) is row-major ∂L/∂W_ih.
        gemm_acc(
            &xs,
            &dgi_all,
            &mut grads.weight_ih,
            self.inputs,
            steps,
            gates,
        );
        gemm_acc(&hs, &dgh_all, &mut grads.weight_hh, hidden, steps, gates);
        let weight = presence.map_or(0.0, |(_, w)| f64::from(w));
        loss / f64::from(counted) + weight * presence_loss / f64::from(counted_steps)
    }

    /// The presence head's logit for hidden state `h`.
    fn presence_logit(&self, h: &[f32]) -> f32 {
        self.presence_bias[0]
            + self
                .presence_weight
                .iter()
                .zip(h)
                .map(|(w, x)| w * x)
                .sum::<f32>()
    }

    /// How much the squashed action after the last step of `caches` depends on each step's
    /// input: for every step, newest first, the Frobenius norm of `∂tanh(y)/∂x` (2 × inputs).
    pub fn input_influence(&self, caches: &[StepCache]) -> Vec<f64> {
        let Some(last) = caches.last() else {
            return Vec::new();
        };
        let hidden = self.hidden;
        let y = self.head(&last.h);
        let mut squares = vec![0.0f64; caches.len()];
        for o in 0..OUTPUTS {
            let a = y[o].tanh();
            let mut dh = vec![0.0f32; hidden];
            let dy = {
                let mut d = [0.0f32; OUTPUTS];
                d[o] = 1.0 - a * a;
                d
            };
            add_transposed(&self.head_weight, &dy, &mut dh);
            for (lag, c) in caches.iter().rev().enumerate() {
                let (dgi, dgh, mut dh_prev) = cell_backward(c, &dh);
                let mut dx = vec![0.0f32; self.inputs];
                add_transposed(&self.weight_ih, &dgi, &mut dx);
                squares[lag] += dx.iter().map(|v| f64::from(v * v)).sum::<f64>();
                add_transposed(&self.weight_hh, &dgh, &mut dh_prev);
                dh = dh_prev;
            }
        }
        squares.into_iter().map(f64::sqrt).collect()
    }
}

/// Back through one cell, `h' = (1 − z) n + z h_prev`, given `dh = ∂L/∂h'`: the gradients of the
/// input-side and hidden-side gate pre-activations (r, z, n stacked) and the direct part of
/// `∂L/∂h_prev` (the part through `W_hh` is added by the caller).
fn cell_backward(c: &StepCache, dh: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let hidden = dh.len();
    let mut dgi = vec![0.0f32; 3 * hidden];
    let mut dgh = vec![0.0f32; 3 * hidden];
    let mut dh_prev = vec![0.0f32; hidden];
    for k in 0..hidden {
        let (r, z, n, hn) = (c.r[k], c.z[k], c.n[k], c.hn[k]);
        let dn_pre = dh[k] * (1.0 - z) * (1.0 - n * n);
        let dz_pre = dh[k] * (c.h_prev[k] - n) * z * (1.0 - z);
        let dr_pre = dn_pre * hn * r * (1.0 - r);
        dgi[k] = dr_pre;
        dgh[k] = dr_pre;
        dgi[hidden + k] = dz_pre;
        dgh[hidden + k] = dz_pre;
        dgi[2 * hidden + k] = dn_pre;
        dgh[2 * hidden + k] = dn_pre * r;
        dh_prev[k] = dh[k] * z;
    }
    (dgi, dgh, dh_prev)
}

/// Episodes to learn from: normalised inputs (row-major), squashed targets (2 per row), and
/// the rows of each episode.
#[derive(Clone, Copy, Debug)]
pub struct Sequences<'a> {
    /// Normalised observations, row-major.
    pub inputs: &'a [f32],
    /// Squashed expert actions, 2 per row.
    pub targets: &'a [f32],
    /// Rows of each episode.
    pub episodes: &'a [std::ops::Range<usize>],
    /// Per row, 1 when a pedestrian the car saw is hidden ahead now (auxiliary target).
    pub presence: &'a [f32],
}

/// Trains `params` for `config.steps_per_round` Adam steps on random windows of the episodes
/// in `data` (inputs already normalised, row-major, `inputs` columns; targets squashed, 2 per
/// row). Per-window gradients are computed in parallel and summed in window order, so the
/// result does not depend on `threads`. `on_step(step, steps, loss)` hears of every step and
/// stops training early by returning `false`. Returns the mean window loss of the last 20 steps.
pub fn train_windows(
    params: &mut GruParams,
    adam: &mut crate::adam::Adam,
    config: &GruConfig,
    data: &Sequences<'_>,
    rng: &mut rand_chacha::ChaCha8Rng,
    threads: Option<usize>,
    on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> f64 {
    use rand::RngExt;
    let Sequences {
        inputs,
        targets,
        episodes,
        presence,
    } = *data;
    let dim = params.inputs;
    let usable: Vec<&std::ops::Range<usize>> = episodes.iter().filter(|e| e.len() >= 2).collect();
    assert!(!usable.is_empty(), "no episode to train on");
    let mut recent = Vec::new();
    for step in 0..config.steps_per_round {
        // (rows, first row with a loss): a window of at most `window` rows of one episode.
        let windows: Vec<(std::ops::Range<usize>, usize)> = (0..config.batch)
            .map(|_| {
                let e = usable[rng.random_range(0..usable.len())];
                let len = config.window.min(e.len());
                let latest = e.len() - len;
                let offset = rng
                    .random_range(0..=latest + config.burn_in)
                    .saturating_sub(config.burn_in);
                let start = e.start + offset;
                let from = if offset == 0 {
                    0
                } else {
                    config.burn_in.min(len - 1)
                };
                (start..start + len, from)
            })
            .collect();
        let per_window = memdrive_sim::parallel::map_ordered(
            &windows,
            threads,
            || (),
            |(), (rows, from)| {
                let mut grads = params.zeros_like();
                let caches = params.forward(
                    &inputs[rows.start * dim..rows.end * dim],
                    &vec![0.0; params.hidden],
                );
                let labels = (config.presence_loss > 0.0)
                    .then(|| (&presence[rows.clone()], config.presence_loss));
                let loss = params.loss_and_grad(
                    &caches,
                    &targets[rows.start * 2..rows.end * 2],
                    labels,
                    *from,
                    &mut grads,
                );
                (loss, grads)
            },
        );
        let mut total = params.zeros_like();
        let mut loss = 0.0;
        for (l, g) in &per_window {
            loss += l / per_window.len() as f64;
            for (t, gi) in total.trainable_mut().into_iter().zip(g.trainable()) {
                for (a, b) in t.iter_mut().zip(gi) {
                    *a += b / per_window.len() as f32;
                }
            }
        }
        let grads: Vec<&Vec<f32>> = total.trainable().to_vec();
        adam.learning_rate = cosine_rate(
            config.learning_rate,
            config.final_rate_fraction,
            step,
            config.steps_per_round,
        );
        adam.step(&mut params.trainable_mut(), &grads);
        recent.push(loss);
        if !on_step(step, config.steps_per_round, loss) {
            break;
        }
    }
    let tail = &recent[recent.len().saturating_sub(20)..];
    tail.iter().sum::<f64>() / tail.len().max(1) as f64
}

impl GruParams {
    /// The tensors of a weight file.
    pub fn tensors(&self) -> std::collections::BTreeMap<String, crate::weights::Tensor> {
        self.named()
            .into_iter()
            .zip(Self::shapes(self.inputs, self.hidden))
            .map(|((name, data), shape)| {
                (
                    name.to_owned(),
                    crate::weights::Tensor::new(shape, data.clone()),
                )
            })
            .collect()
    }

    /// Rebuilds the network from a loaded file, checking every shape against the config.
    pub fn from_weights(
        file: &mut crate::weights::WeightFile,
    ) -> std::result::Result<(Self, GruConfig), String> {
        let config: GruConfig = serde_json::from_value(file.config.clone())
            .map_err(|e| format!("metadata `config` is not a GRU configuration: {e}"))?;
        config
            .validate()
            .map_err(|why| format!("metadata `config`: {why}"))?;
        let (inputs, hidden) = (file.normaliser.dim(), config.hidden);
        let mut params = Self {
            inputs,
            hidden,
            weight_ih: Vec::new(),
            weight_hh: Vec::new(),
            bias_ih: Vec::new(),
            bias_hh: Vec::new(),
            head_weight: Vec::new(),
            head_bias: Vec::new(),
            presence_weight: vec![0.0; hidden],
            presence_bias: vec![0.0],
        };
        let names = params.named().map(|(n, _)| n);
        for ((name, shape), slot) in names
            .into_iter()
            .zip(Self::shapes(inputs, hidden))
            .zip(params.tensors_mut())
        {
            *slot = file.take(name, &shape)?;
        }
        file.no_extra_tensors()?;
        Ok((params, config))
    }
}

/// The GRU driving: its hidden state is the memory, owned here and carried between steps.
#[derive(Clone, Debug)]
pub struct GruController {
    params: std::sync::Arc<GruParams>,
    normaliser: std::sync::Arc<crate::normaliser::Normaliser>,
    scale: crate::action::ActionScale,
    input: Vec<f32>,
    hidden: Vec<f32>,
    last: Option<StepCache>,
}

impl GruController {
    /// A controller with a zero hidden state.
    pub fn new(
        params: std::sync::Arc<GruParams>,
        normaliser: std::sync::Arc<crate::normaliser::Normaliser>,
    ) -> Self {
        let (inputs, hidden) = (params.inputs, params.hidden);
        Self {
            params,
            normaliser,
            scale: crate::action::ActionScale::default(),
            input: vec![0.0; inputs],
            hidden: vec![0.0; hidden],
            last: None,
        }
    }
}

impl memdrive_sim::Controller for GruController {
    fn name(&self) -> &str {
        "gru"
    }

    fn reset(&mut self) {
        self.hidden.fill(0.0);
        self.last = None;
    }

    fn act(&mut self, obs: &memdrive_sim::Observation) -> memdrive_sim::Controls {
        self.normaliser.apply(obs.values(), &mut self.input);
        let step = self.params.step(&self.input, &self.hidden);
        self.hidden.clone_from(&step.h);
        let controls = self.scale.controls(self.params.head(&self.hidden));
        self.last = Some(step);
        controls
    }
}

impl crate::MemoryController for GruController {
    fn memory(&self) -> crate::MemorySnapshot {
        let hidden = self.hidden.len();
        let gates = |f: fn(&StepCache) -> &[f32]| {
            self.last
                .as_ref()
                .map_or(vec![0.0; hidden], |c| f(c).to_vec())
        };
        crate::MemorySnapshot::Gru {
            hidden: self.hidden.clone(),
            update_gate: gates(StepCache::update_gate),
            reset_gate: gates(StepCache::reset_gate),
        }
    }

    fn forget(&mut self) {
        self.hidden.fill(0.0);
    }

    fn memory_state(&self) -> crate::MemoryState {
        crate::MemoryState::Gru(self.hidden.clone())
    }

    fn set_memory_state(&mut self, state: &crate::MemoryState) -> crate::Result<()> {
        let into = || format!("a GRU of {} units", self.hidden.len());
        match state {
            crate::MemoryState::Gru(h) if h.len() == self.hidden.len() => {
                self.hidden.copy_from_slice(h);
                Ok(())
            }
            crate::MemoryState::Gru(h) => Err(crate::Error::MemoryMismatch {
                found: format!("the memory of a GRU of {} units", h.len()),
                into: into(),
            }),
            other => Err(crate::Error::MemoryMismatch {
                found: format!("the memory of a {}", other.kind()),
                into: into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn window(rng: &mut ChaCha8Rng, inputs: usize, steps: usize) -> (Vec<f32>, Vec<f32>) {
        let xs = (0..inputs * steps)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let targets = (0..2 * steps)
            .map(|_| rng.random_range(-0.9..0.9))
            .collect();
        (xs, targets)
    }

    /// Every parameter tensor's gradient against central finite differences.
    /// Bound: |analytic − numeric| ≤ 1e-2 · max(|analytic|, |numeric|) + 2e-4, with ε = 1e-2
    /// in f32 (the loss is O(0.1), so rounding error is ~1e-5 and truncation ~ε² · f''').
    /// The step size starts at the base, ends at its fraction, and falls all the way.
    #[test]
    fn the_cosine_step_size_falls_from_the_base_to_its_fraction() {
        let rates: Vec<f32> = (0..=100).map(|s| cosine_rate(2e-3, 0.05, s, 100)).collect();
        assert!((rates[0] - 2e-3).abs() < 1e-9, "{}", rates[0]);
        assert!((rates[100] - 1e-4).abs() < 1e-9, "{}", rates[100]);
        assert!((rates[50] - 1.05e-3).abs() < 1e-8, "{}", rates[50]);
        assert!(rates.windows(2).all(|w| w[1] <= w[0]));
        assert_eq!(
            cosine_rate(2e-3, 1.0, 37, 100),
            2e-3,
            "fraction 1: constant"
        );
    }

    #[test]
    fn backpropagation_through_time_matches_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (inputs, hidden, steps, from) = (5, 4, 6, 2);
        let params = GruParams::init(inputs, hidden, &mut rng);
        let (xs, targets) = window(&mut rng, inputs, steps);
        let h0: Vec<f32> = (0..hidden).map(|_| rng.random_range(-0.5..0.5)).collect();
        let mut params = params;
        // A presence head that is not zero, so its gradient reaches the hidden state.
        for w in &mut params.presence_weight {
            *w = rng.random_range(-0.5..0.5);
        }
        let labels: Vec<f32> = (0..steps)
            .map(|t| f32::from(u8::from(t % 3 == 0)))
            .collect();
        let presence = Some((labels.as_slice(), 0.7));
        let mut grads = params.zeros_like();
        let caches = params.forward(&xs, &h0);
        params.loss_and_grad(&caches, &targets, presence, from, &mut grads);
        let loss = |p: &GruParams| {
            let mut scratch = p.zeros_like();
            p.loss_and_grad(&p.forward(&xs, &h0), &targets, presence, from, &mut scratch)
        };
        let eps = 1e-2f32;
        let names = [
            "gru.weight_ih",
            "gru.weight_hh",
            "gru.bias_ih",
            "gru.bias_hh",
            "head.weight",
            "head.bias",
            "presence.weight",
            "presence.bias",
        ];
        let analytic: Vec<Vec<f32>> = grads.trainable().iter().map(|g| (*g).clone()).collect();
        for (tensor, (name, grad)) in names.iter().zip(&analytic).enumerate() {
            for (i, &a) in grad.iter().enumerate() {
                let mut plus = params.clone();
                plus.trainable_mut()[tensor][i] += eps;
                let mut minus = params.clone();
                minus.trainable_mut()[tensor][i] -= eps;
                let numeric = ((loss(&plus) - loss(&minus)) / f64::from(2.0 * eps)) as f32;
                let bound = 1e-2 * a.abs().max(numeric.abs()) + 2e-4;
                assert!(
                    (a - numeric).abs() <= bound,
                    "{name}[{i}]: analytic {a}, numeric {numeric}"
                );
            }
        }
    }

    /// Forward pass against numbers computed by hand for a one-unit, one-input GRU.
    ///
    /// All weights 0.5, biases 0, h = 0.2, x = 1:
    /// gi = 0.5, gh = 0.1 → r = z = σ(0.6) = 0.645656;
    /// n = tanh(0.5 + 0.645656 · 0.1) = tanh(0.5645656) = 0.511357;
    /// h' = (1 − 0.645656) · 0.511357 + 0.645656 · 0.2 = 0.310327
    /// (evaluated with Python's math module).
    #[test]
    fn one_step_matches_a_hand_computation() {
        let p = GruParams {
            inputs: 1,
            hidden: 1,
            weight_ih: vec![0.5; 3],
            weight_hh: vec![0.5; 3],
            bias_ih: vec![0.0; 3],
            bias_hh: vec![0.0; 3],
            head_weight: vec![1.0, -1.0],
            head_bias: vec![0.0, 0.1],
            presence_weight: vec![0.0],
            presence_bias: vec![0.0],
        };
        let c = p.step(&[1.0], &[0.2]);
        assert!((c.r[0] - 0.645_656).abs() < 1e-5);
        assert!((c.n[0] - 0.511_357).abs() < 1e-5);
        assert!((c.h[0] - 0.310_327).abs() < 1e-5, "{}", c.h[0]);
        let y = p.head(&c.h);
        assert!((y[0] - 0.310_327).abs() < 1e-5 && (y[1] + 0.210_327).abs() < 1e-5);
    }

    #[test]
    fn the_controller_carries_state_and_forget_clears_it() {
        use crate::normaliser::Normaliser;
        use crate::{MemoryController, MemorySnapshot};
        use memdrive_sim::{Controller, Observation, ObservationSpec};
        use std::sync::Arc;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let spec = Arc::new(ObservationSpec::new(4));
        let dim = spec.len();
        let params = Arc::new(GruParams::init(dim, 8, &mut rng));
        let normaliser = Normaliser::from_parts(vec![0.0; dim], vec![1.0; dim]);
        let normaliser = Arc::new(normaliser.unwrap_or_else(|| panic!("valid statistics")));
        let mut c = GruController::new(params, normaliser);
        let mut obs = Observation::zeros(spec);
        let values: Vec<f32> = (0..dim).map(|i| i as f32 * 0.1).collect();
        obs.copy_from(&values);
        let first = c.act(&obs);
        let second = c.act(&obs);
        // The same observation twice gives different actions: the state changed in between.
        assert_ne!(first, second);
        let MemorySnapshot::Gru {
            hidden,
            update_gate,
            reset_gate,
        } = c.memory()
        else {
            panic!("not a GRU snapshot");
        };
        assert_eq!(
            (hidden.len(), update_gate.len(), reset_gate.len()),
            (8, 8, 8)
        );
        assert!(hidden.iter().any(|h| *h != 0.0));
        assert!(update_gate.iter().all(|z| (0.0..=1.0).contains(z)));
        c.forget();
        let MemorySnapshot::Gru { hidden, .. } = c.memory() else {
            panic!("not a GRU snapshot");
        };
        assert!(hidden.iter().all(|h| *h == 0.0));
        // After forgetting, it acts as it did from the start.
        assert_eq!(c.act(&obs), first);
    }
}

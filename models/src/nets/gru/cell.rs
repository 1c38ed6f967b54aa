//! The GRU cell: its parameters, one step forward, backpropagation through time, and its
//! tensors in a weight file.

use super::GruConfig;
use crate::kernels::{add_outer, add_transposed, affine, gemm_acc, transposed};
use crate::layers::{HeadPass, MlpHead, MlpHeadGrads};

/// Outputs: steering and acceleration (pre-`tanh`).
const OUTPUTS: usize = 2;

/// Every tensor of a weight file with a hidden layer in the head, in file order (then, in
/// training only, the presence head's).
pub(super) const NAMES: [&str; 8] = [
    "gru.weight_ih",
    "gru.weight_hh",
    "gru.bias_ih",
    "gru.bias_hh",
    "head.mlp.weight",
    "head.mlp.bias",
    "head.weight",
    "head.bias",
];

/// The GRU's parameters, row-major, shapes as in PyTorch.
#[derive(Clone, Debug, PartialEq)]
pub struct GruParams {
    /// Observation elements.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Units of the head's hidden layer (0: the head is linear in the hidden state).
    pub mlp: usize,
    /// (3H, I): input weights of the r, z, n gates, stacked.
    pub weight_ih: Vec<f32>,
    /// (3H, H): recurrent weights of the r, z, n gates, stacked.
    pub weight_hh: Vec<f32>,
    /// (3H,).
    pub bias_ih: Vec<f32>,
    /// (3H,).
    pub bias_hh: Vec<f32>,
    /// (M, H + I): the head's hidden layer, reading the hidden state and the present input
    /// (clipped to ±4; empty for a linear head).
    pub mlp_weight: Vec<f32>,
    /// (M,).
    pub mlp_bias: Vec<f32>,
    /// (2, H), or (2, M) with a hidden layer.
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
    pub(crate) x: Vec<f32>,
    pub(super) h_prev: Vec<f32>,
    pub(super) r: Vec<f32>,
    pub(super) z: Vec<f32>,
    pub(super) n: Vec<f32>,
    /// W_hn h + b_hn, before the reset gate scales it.
    pub(super) hn: Vec<f32>,
    pub(super) h: Vec<f32>,
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

/// Unit `k` of one step, from the input and recurrent sides of the gates (`gi`, `gh`, 3H each)
/// and the state before it: its reset gate, update gate, candidate and new state.
#[inline]
fn gate_unit(gi: &[f32], gh: &[f32], h: &[f32], k: usize, hidden: usize) -> [f32; 4] {
    let r = sigmoid(gi[k] + gh[k]);
    let z = sigmoid(gi[hidden + k] + gh[hidden + k]);
    let n = (gi[2 * hidden + k] + r * gh[2 * hidden + k]).tanh();
    [r, z, n, (1.0 - z) * n + z * h[k]]
}

impl GruParams {
    /// Parameters drawn uniformly from ±1/√H, as PyTorch initialises a GRU, with a linear
    /// head.
    pub fn init(inputs: usize, hidden: usize, rng: &mut impl rand::Rng) -> Self {
        Self::init_with(inputs, hidden, 0, rng)
    }

    /// [`init`](Self::init) with a head of `mlp` hidden units (0: linear), each layer drawn
    /// from ±1/√fan-in.
    pub fn init_with(inputs: usize, hidden: usize, mlp: usize, rng: &mut impl rand::Rng) -> Self {
        use rand::RngExt;
        let mut draw = |n: usize, fan_in: usize| -> Vec<f32> {
            let bound = 1.0 / (fan_in as f32).sqrt();
            (0..n).map(|_| rng.random_range(-bound..bound)).collect()
        };
        let weight_ih = draw(3 * hidden * inputs, hidden);
        let weight_hh = draw(3 * hidden * hidden, hidden);
        let bias_ih = draw(3 * hidden, hidden);
        let bias_hh = draw(3 * hidden, hidden);
        // A linear head draws exactly what it always did (bundled files reproduce).
        let head_weight = if mlp == 0 {
            draw(OUTPUTS * hidden, hidden)
        } else {
            draw(OUTPUTS * mlp, mlp)
        };
        let mlp_weight = draw(mlp * (hidden + inputs), hidden + inputs);
        Self {
            inputs,
            hidden,
            mlp,
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
            mlp_weight,
            mlp_bias: vec![0.0; mlp],
            head_weight,
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
            mlp: self.mlp,
            weight_ih: z(&self.weight_ih),
            weight_hh: z(&self.weight_hh),
            bias_ih: z(&self.bias_ih),
            bias_hh: z(&self.bias_hh),
            mlp_weight: z(&self.mlp_weight),
            mlp_bias: z(&self.mlp_bias),
            head_weight: z(&self.head_weight),
            head_bias: z(&self.head_bias),
            presence_weight: z(&self.presence_weight),
            presence_bias: z(&self.presence_bias),
        }
    }

    /// Every tensor of a weight file with its PyTorch-style name, in a fixed order (the
    /// head's hidden layer only when it has one).
    pub fn named(&self) -> Vec<(&'static str, &Vec<f32>)> {
        let all = self.trainable();
        let tensors = if self.mlp > 0 {
            all[..8].to_vec()
        } else {
            vec![all[0], all[1], all[2], all[3], all[6], all[7]]
        };
        Self::names(self.mlp).into_iter().zip(tensors).collect()
    }

    /// Names of a weight file's tensors, in the order of `named`: [`NAMES`] without the
    /// head's hidden layer when it has none.
    pub(super) fn names(mlp: usize) -> Vec<&'static str> {
        NAMES
            .into_iter()
            .filter(|n| mlp > 0 || !n.starts_with("head.mlp."))
            .collect()
    }

    /// Every tensor of a weight file, mutable, in the order of `named`.
    pub fn tensors_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mlp = self.mlp;
        let [a, b, c, d, e, f, g, h, _, _] = self.trainable_mut();
        if mlp > 0 {
            vec![a, b, c, d, e, f, g, h]
        } else {
            vec![a, b, c, d, g, h]
        }
    }

    /// Every trained tensor: the GRU's, the head's (its hidden layer empty when linear), then
    /// the presence head's (not in weight files).
    pub fn trainable(&self) -> [&Vec<f32>; 10] {
        [
            &self.weight_ih,
            &self.weight_hh,
            &self.bias_ih,
            &self.bias_hh,
            &self.mlp_weight,
            &self.mlp_bias,
            &self.head_weight,
            &self.head_bias,
            &self.presence_weight,
            &self.presence_bias,
        ]
    }

    /// Every trained tensor, mutable, in the order of `trainable`.
    pub fn trainable_mut(&mut self) -> [&mut Vec<f32>; 10] {
        [
            &mut self.weight_ih,
            &mut self.weight_hh,
            &mut self.bias_ih,
            &mut self.bias_hh,
            &mut self.mlp_weight,
            &mut self.mlp_bias,
            &mut self.head_weight,
            &mut self.head_bias,
            &mut self.presence_weight,
            &mut self.presence_bias,
        ]
    }

    /// Shape of each tensor of a weight file, in the order of `named`.
    pub fn shapes(inputs: usize, hidden: usize, mlp: usize) -> Vec<Vec<usize>> {
        let mut shapes = vec![
            vec![3 * hidden, inputs],
            vec![3 * hidden, hidden],
            vec![3 * hidden],
            vec![3 * hidden],
        ];
        if mlp > 0 {
            shapes.extend([vec![mlp, hidden + inputs], vec![mlp], vec![OUTPUTS, mlp]]);
        } else {
            shapes.push(vec![OUTPUTS, hidden]);
        }
        shapes.push(vec![OUTPUTS]);
        shapes
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
        let (mut r, mut z, mut n, mut h_new) = (
            vec![0.0; hidden],
            vec![0.0; hidden],
            vec![0.0; hidden],
            vec![0.0; hidden],
        );
        for k in 0..hidden {
            [r[k], z[k], n[k], h_new[k]] = gate_unit(gi, &gh, h, k, hidden);
        }
        StepCache {
            x: x.to_vec(),
            h_prev: h.to_vec(),
            r,
            z,
            n,
            hn: gh[2 * hidden..].to_vec(),
            h: h_new,
        }
    }

    /// The hidden state before every step of `xs` (row-major inputs) from `h0`, appended to
    /// `out`: the same arithmetic as [`Self::forward`], without keeping what a backward pass
    /// needs (stored state runs every episode of the training data).
    pub fn run_hidden(&self, xs: &[f32], h0: &[f32], out: &mut Vec<f32>) {
        let (hidden, gates) = (self.hidden, 3 * self.hidden);
        let gi = self.input_gates(xs);
        let mut h = h0.to_vec();
        let mut next = vec![0.0; hidden];
        let mut gh = vec![0.0; gates];
        out.reserve(gi.len() / gates.max(1) * hidden);
        for gi in gi.chunks_exact(gates) {
            out.extend_from_slice(&h);
            affine(&self.weight_hh, &self.bias_hh, &h, &mut gh);
            for (k, v) in next.iter_mut().enumerate() {
                *v = gate_unit(gi, &gh, &h, k, hidden)[3];
            }
            std::mem::swap(&mut h, &mut next);
        }
    }

    /// Raw outputs (pre-`tanh`) read from hidden state `h` after input `x` (which only a head
    /// with a hidden layer reads).
    pub fn head(&self, h: &[f32], x: &[f32]) -> [f32; 2] {
        self.head_pass(h, x).0
    }

    /// The head's raw outputs and, with a hidden layer, what its backward pass needs.
    fn head_pass(&self, h: &[f32], x: &[f32]) -> ([f32; 2], Option<HeadPass>) {
        if self.mlp > 0 {
            let pass = self.mlp_head().forward(h, x);
            (pass.y, Some(pass))
        } else {
            let mut y = [0.0; OUTPUTS];
            affine(&self.head_weight, &self.head_bias, h, &mut y);
            (y, None)
        }
    }

    fn mlp_head(&self) -> MlpHead<'_> {
        MlpHead {
            w1: &self.mlp_weight,
            b1: &self.mlp_bias,
            w2: &self.head_weight,
            b2: &self.head_bias,
        }
    }

    /// Back through the head (its `pass` from [`Self::head_pass`] on `h`) given
    /// `dy = ∂L/∂y`: adds to the head's gradients and to `dh` (and, with a hidden layer, the
    /// part through the present input to `dx` when given).
    fn head_backward(
        &self,
        h: &[f32],
        pass: Option<&HeadPass>,
        dy: &[f32; 2],
        grads: &mut Self,
        dh: &mut [f32],
        dx: Option<&mut [f32]>,
    ) {
        let Some(pass) = pass else {
            add_outer(&mut grads.head_weight, dy, h);
            for (g, d) in grads.head_bias.iter_mut().zip(dy) {
                *g += d;
            }
            add_transposed(&self.head_weight, dy, dh);
            return;
        };
        let into = MlpHeadGrads {
            w1: &mut grads.mlp_weight,
            b1: &mut grads.mlp_bias,
            w2: &mut grads.head_weight,
            b2: &mut grads.head_bias,
        };
        self.mlp_head().backward(pass, dy, into, dh, dx);
    }

    /// The input side of the gates of every step of `xs`, `W_ih x + b_ih`, row-major
    /// (steps × 3H): one matrix product.
    fn input_gates(&self, xs: &[f32]) -> Vec<f32> {
        let (steps, gates) = (xs.len() / self.inputs, 3 * self.hidden);
        // Column-major, (3H × steps) = W_ih (3H × I) · Xᵀ (I × steps) is row-major (steps × 3H).
        let mut gi: Vec<f32> = (0..steps)
            .flat_map(|_| self.bias_ih.iter().copied())
            .collect();
        let w = transposed(&self.weight_ih, gates, self.inputs);
        gemm_acc(&w, xs, &mut gi, gates, self.inputs, steps);
        gi
    }

    /// Forward over a window from hidden state `h0`; returns the caches of every step. The
    /// input side of the gates, which needs no recurrence, is one matrix product for the whole
    /// window.
    pub fn forward(&self, xs: &[f32], h0: &[f32]) -> Vec<StepCache> {
        let gates = 3 * self.hidden;
        let gi = self.input_gates(xs);
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
                let (y, pass) = self.head_pass(&c.h, &c.x);
                let mut dy = [0.0f32; OUTPUTS];
                for o in 0..OUTPUTS {
                    let a = y[o].tanh();
                    let err = a - targets[t * OUTPUTS + o];
                    loss += f64::from(err * err);
                    dy[o] = 2.0 * err / counted * (1.0 - a * a);
                }
                self.head_backward(&c.h, pass.as_ref(), &dy, grads, &mut dh, None);
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
        let (y, pass) = self.head_pass(&last.h, &last.x);
        let mut squares = vec![0.0f64; caches.len()];
        let mut scratch = self.zeros_like();
        for o in 0..OUTPUTS {
            let a = y[o].tanh();
            let mut dh = vec![0.0f32; hidden];
            let dy = {
                let mut d = [0.0f32; OUTPUTS];
                d[o] = 1.0 - a * a;
                d
            };
            // The present input also reaches the head directly, when it has a hidden layer.
            let mut direct = vec![0.0f32; self.inputs];
            self.head_backward(
                &last.h,
                pass.as_ref(),
                &dy,
                &mut scratch,
                &mut dh,
                Some(&mut direct),
            );
            for (lag, c) in caches.iter().rev().enumerate() {
                let (dgi, dgh, mut dh_prev) = cell_backward(c, &dh);
                let mut dx = if lag == 0 {
                    std::mem::take(&mut direct)
                } else {
                    vec![0.0f32; self.inputs]
                };
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

impl GruParams {
    /// The tensors of a weight file.
    pub fn tensors(&self) -> std::collections::BTreeMap<String, crate::weights::Tensor> {
        self.named()
            .into_iter()
            .zip(Self::shapes(self.inputs, self.hidden, self.mlp))
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
    ) -> Result<(Self, GruConfig), crate::Invalid> {
        let config: GruConfig = file.config("GRU", GruConfig::validate)?;
        let (inputs, hidden, mlp) = (file.normaliser.dim(), config.hidden, config.head_mlp);
        let mut params = Self {
            inputs,
            hidden,
            mlp,
            weight_ih: Vec::new(),
            weight_hh: Vec::new(),
            bias_ih: Vec::new(),
            bias_hh: Vec::new(),
            mlp_weight: Vec::new(),
            mlp_bias: Vec::new(),
            head_weight: Vec::new(),
            head_bias: Vec::new(),
            presence_weight: vec![0.0; hidden],
            presence_bias: vec![0.0],
        };
        for ((name, shape), slot) in Self::names(mlp)
            .into_iter()
            .zip(Self::shapes(inputs, hidden, mlp))
            .zip(params.tensors_mut())
        {
            *slot = file.take(name, &shape)?;
        }
        file.no_extra_tensors()?;
        Ok((params, config))
    }
}

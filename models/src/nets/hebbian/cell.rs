//! The plastic recurrent cell: parameters, one step forward (activity, neuromodulator, trace),
//! backpropagation through time through the trace, the influence of each input, and its tensors
//! in a weight file.

use super::HebbianConfig;
use crate::Invalid;
use crate::kernels::{add_outer, add_transposed, affine, dot, gemm_acc, transposed};
use crate::layers::{HeadPass, MlpHead, MlpHeadGrads};
use crate::weights::{Tensor, WeightFile};
use std::collections::BTreeMap;

/// Outputs: steering and acceleration (pre-`tanh`).
const OUTPUTS: usize = 2;

const W_IN: usize = 0;
const B: usize = 1;
const W: usize = 2;
const ALPHA: usize = 3;
const MOD_W: usize = 4;
const MOD_B: usize = 5;
const HEAD_W: usize = 6;
const HEAD_B: usize = 7;
/// The auxiliary presence head (hidden,) and (1,): trained, never written to a weight file.
const PRESENCE_W: usize = 8;
const PRESENCE_B: usize = 9;
/// The head's hidden layer (mlp, hidden + inputs) and (mlp,); empty without one.
const MLP_W: usize = 10;
const MLP_B: usize = 11;

/// The names of the head's hidden layer, as the GRU's.
const MLP_NAMES: [&str; 2] = ["head.mlp.weight", "head.mlp.bias"];

/// Tensor names, in storage order, as the reference implementations name them.
pub const NAMES: [&str; 8] = [
    "plastic.w_in",
    "plastic.bias",
    "plastic.w",
    "plastic.alpha",
    "modulator.weight",
    "modulator.bias",
    "head.weight",
    "head.bias",
];

/// The parameters, row-major, in the order of `NAMES`, then the presence head, then the head's
/// hidden layer (empty without one). `W` and `α` are (hidden, hidden), row i the unit that
/// receives, column j the one that sends.
#[derive(Clone, Debug, PartialEq)]
pub struct HebbianParams {
    /// Observation elements.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// The share of the trace kept from one step to the next (1: kept whole).
    pub decay: f32,
    /// The trace's bound: every entry stays within ±clip.
    pub clip: f32,
    /// Units of the head's hidden layer (0: the head reads the activity linearly).
    pub mlp: usize,
    /// In training only: extra weight of a row whose acceleration label is a hard braking
    /// (the config's `critical_weight`).
    pub critical_weight: f32,
    /// The tensors.
    pub tensors: Vec<Vec<f32>>,
}

/// One step of driving: the new activity, neuromodulator, trace and raw outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepCache {
    /// The activity after this step, (hidden,).
    pub h: Vec<f32>,
    /// The neuromodulator: > 0 potentiates, < 0 depresses.
    pub m: f32,
    /// The trace after this step, (hidden, hidden).
    pub hebb: Vec<f32>,
    /// Raw outputs (pre-`tanh`).
    pub out: [f32; OUTPUTS],
}

/// A window stepped forward, kept for the backward pass: inputs, and the activity and trace
/// before every step and after the last, in flat arrays (no allocation per step).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trajectory {
    hidden: usize,
    inputs: usize,
    /// (steps, inputs).
    x: Vec<f32>,
    /// (steps + 1, hidden): row t before step t, row t + 1 after it.
    h: Vec<f32>,
    /// (steps + 1, hidden, hidden), indexed as `h`.
    traces: Vec<f32>,
    /// The neuromodulator of every step.
    m: Vec<f32>,
    /// Raw outputs (pre-`tanh`) of every step.
    out: Vec<[f32; OUTPUTS]>,
    /// What the head's hidden layer computed at every step (empty without one).
    passes: Vec<HeadPass>,
}

impl Trajectory {
    /// Steps taken.
    pub fn len(&self) -> usize {
        self.m.len()
    }

    /// True when no step was taken.
    pub fn is_empty(&self) -> bool {
        self.m.is_empty()
    }

    /// The activity after step `t`.
    pub fn activity(&self, t: usize) -> &[f32] {
        &self.h[(t + 1) * self.hidden..(t + 2) * self.hidden]
    }

    /// The trace after step `t`.
    pub fn trace(&self, t: usize) -> &[f32] {
        let nn = self.hidden * self.hidden;
        &self.traces[(t + 1) * nn..(t + 2) * nn]
    }

    /// Raw outputs (pre-`tanh`) of step `t`.
    pub fn out(&self, t: usize) -> [f32; OUTPUTS] {
        self.out[t]
    }

    fn h_before(&self, t: usize) -> &[f32] {
        &self.h[t * self.hidden..(t + 1) * self.hidden]
    }

    fn trace_before(&self, t: usize) -> &[f32] {
        let nn = self.hidden * self.hidden;
        &self.traces[t * nn..(t + 1) * nn]
    }
}

/// Σ_j (w_j + α_j e_j) h_j: one unit's recurrent input through its plastic synapses, in eight
/// lanes so that it vectorises.
fn plastic_dot(w: &[f32], alpha: &[f32], e: &[f32], h: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = w.len() / 8 * 8;
    for (((w8, a8), e8), h8) in w[..chunks]
        .chunks_exact(8)
        .zip(alpha[..chunks].chunks_exact(8))
        .zip(e[..chunks].chunks_exact(8))
        .zip(h[..chunks].chunks_exact(8))
    {
        for l in 0..8 {
            lanes[l] += (w8[l] + a8[l] * e8[l]) * h8[l];
        }
    }
    let tail: f32 = (chunks..w.len())
        .map(|j| (w[j] + alpha[j] * e[j]) * h[j])
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// The trace's rule: `clip(decay · hebb + m · h_new h_prevᵀ)`, entry by entry.
#[derive(Clone, Copy)]
struct TraceRule {
    decay: f32,
    clip: f32,
}

impl TraceRule {
    /// An entry before clipping.
    #[inline]
    fn raw(self, e: f32, mh: f32, hj: f32) -> f32 {
        self.decay * e + mh * hj
    }

    /// An entry after a step: `clip(decay · e + mh · hj)`.
    #[inline]
    fn next(self, e: f32, mh: f32, hj: f32) -> f32 {
        self.raw(e, mh, hj).clamp(-self.clip, self.clip)
    }

    /// `out = clip(decay · hebb + m · h_new h_prevᵀ)`: the trace after a step.
    fn apply(self, hebb: &[f32], m: f32, h_new: &[f32], h_prev: &[f32], out: &mut [f32]) {
        let n = h_prev.len();
        for ((row_out, row_in), &hi) in out.chunks_exact_mut(n).zip(hebb.chunks_exact(n)).zip(h_new)
        {
            let mh = m * hi;
            for ((o, e), hj) in row_out.iter_mut().zip(row_in).zip(h_prev) {
                *o = self.next(*e, mh, *hj);
            }
        }
    }

    /// The same in place: each entry of the new trace reads only the same entry of the old.
    fn apply_in_place(self, hebb: &mut [f32], m: f32, h_new: &[f32], h_prev: &[f32]) {
        let n = h_prev.len();
        for (row, &hi) in hebb.chunks_exact_mut(n).zip(h_new) {
            let mh = m * hi;
            for (e, hj) in row.iter_mut().zip(h_prev) {
                *e = self.next(*e, mh, *hj);
            }
        }
    }
}

impl HebbianParams {
    /// Shape of every tensor, in the order of `NAMES`, for a head with a hidden layer of
    /// `mlp` units (0: none).
    pub fn shapes(inputs: usize, hidden: usize, mlp: usize) -> Vec<Vec<usize>> {
        vec![
            vec![hidden, inputs],
            vec![hidden],
            vec![hidden, hidden],
            vec![hidden, hidden],
            vec![hidden],
            vec![1],
            vec![OUTPUTS, if mlp > 0 { mlp } else { hidden }],
            vec![OUTPUTS],
        ]
    }

    /// Shapes of the head's hidden layer, in the order of `MLP_NAMES`.
    fn mlp_shapes(inputs: usize, hidden: usize, mlp: usize) -> [Vec<usize>; 2] {
        [vec![mlp, hidden + inputs], vec![mlp]]
    }

    /// Affine layers uniform in ±1/√fan_in, the plastic coefficients α uniform in ±0.1 (as
    /// the reference implementation starts them, small), biases and the presence head zero.
    /// Without a hidden layer in the head the draws are those of the network before it had
    /// one.
    pub fn init(inputs: usize, c: &HebbianConfig, rng: &mut impl rand::Rng) -> Self {
        use rand::RngExt;
        let (h, mlp) = (c.hidden, c.head_mlp);
        let mut uniform = |len: usize, bound: f32| -> Vec<f32> {
            (0..len).map(|_| rng.random_range(-bound..bound)).collect()
        };
        let w_in = uniform(h * inputs, 1.0 / (inputs as f32).sqrt());
        let w = uniform(h * h, 1.0 / (h as f32).sqrt());
        let alpha = uniform(h * h, 0.1);
        let mod_w = uniform(h, 1.0 / (h as f32).sqrt());
        let head_in = if mlp > 0 { mlp } else { h };
        let head_w = uniform(OUTPUTS * head_in, 1.0 / (head_in as f32).sqrt());
        let mlp_w = uniform(mlp * (h + inputs), 1.0 / ((h + inputs) as f32).sqrt());
        Self {
            inputs,
            hidden: h,
            decay: c.trace_decay,
            clip: c.trace_clip,
            mlp,
            critical_weight: c.critical_weight,
            tensors: vec![
                w_in,
                vec![0.0; h],
                w,
                alpha,
                mod_w,
                vec![0.0],
                head_w,
                vec![0.0; OUTPUTS],
                vec![0.0; h],
                vec![0.0],
                mlp_w,
                vec![0.0; mlp],
            ],
        }
    }

    /// Zeros of the same shapes.
    pub fn zeros_like(&self) -> Self {
        Self {
            tensors: self.tensors.iter().map(|t| vec![0.0; t.len()]).collect(),
            ..self.clone()
        }
    }

    /// True when some plastic coefficient is not 0: the trace acts on the activity.
    pub fn plastic(&self) -> bool {
        self.tensors[ALPHA].iter().any(|&a| a != 0.0)
    }

    /// The same network with plasticity switched off (α = 0): the ablation.
    pub fn without_plasticity(&self) -> Self {
        let mut p = self.clone();
        p.tensors[ALPHA].fill(0.0);
        p
    }

    fn rule(&self) -> TraceRule {
        TraceRule {
            decay: self.decay,
            clip: self.clip,
        }
    }

    fn t(&self, i: usize) -> &[f32] {
        &self.tensors[i]
    }

    /// The activity after one step: `tanh(pre_in + (W + α ⊙ hebb) h)`, with `pre_in` the input
    /// side `W_in x + b`.
    fn activity(&self, pre_in: &[f32], h: &[f32], hebb: &[f32], out: &mut [f32]) {
        let n = self.hidden;
        let (w, alpha) = (self.t(W), self.t(ALPHA));
        for (i, o) in out.iter_mut().enumerate() {
            let row = i * n..(i + 1) * n;
            *o = (pre_in[i] + plastic_dot(&w[row.clone()], &alpha[row.clone()], &hebb[row], h))
                .tanh();
        }
    }

    /// The neuromodulator after a step to activity `h`.
    fn modulator(&self, h: &[f32]) -> f32 {
        (self.t(MOD_B)[0] + dot(self.t(MOD_W), h)).tanh()
    }

    /// The raw outputs (pre-`tanh`) read from activity `h` after input `x` (which only a head
    /// with a hidden layer reads), and with a hidden layer what its backward pass needs.
    fn head(&self, h: &[f32], x: &[f32]) -> ([f32; OUTPUTS], Option<HeadPass>) {
        if self.mlp > 0 {
            let pass = self.mlp_head().forward(h, x);
            (pass.y, Some(pass))
        } else {
            let mut out = [0.0; OUTPUTS];
            affine(self.t(HEAD_W), self.t(HEAD_B), h, &mut out);
            (out, None)
        }
    }

    fn mlp_head(&self) -> MlpHead<'_> {
        MlpHead {
            w1: self.t(MLP_W),
            b1: self.t(MLP_B),
            w2: self.t(HEAD_W),
            b2: self.t(HEAD_B),
        }
    }

    /// One step from activity `h` and trace `hebb`, in place: `scratch` (2 × hidden) is working
    /// space, so driving allocates nothing. Returns the neuromodulator and the raw outputs.
    pub fn step_in_place(
        &self,
        x: &[f32],
        h: &mut [f32],
        hebb: &mut [f32],
        scratch: &mut [f32],
    ) -> (f32, [f32; OUTPUTS]) {
        let (pre_in, h_new) = scratch.split_at_mut(self.hidden);
        affine(self.t(W_IN), self.t(B), x, pre_in);
        self.activity(pre_in, h, hebb, h_new);
        let m = self.modulator(h_new);
        self.rule().apply_in_place(hebb, m, h_new, h);
        h.copy_from_slice(h_new);
        (m, self.head(h, x).0)
    }

    /// One step from activity `h` and trace `hebb`.
    pub fn step(&self, x: &[f32], h: &[f32], hebb: &[f32]) -> StepCache {
        let (mut h, mut hebb) = (h.to_vec(), hebb.to_vec());
        let mut scratch = vec![0.0; 2 * self.hidden];
        let (m, out) = self.step_in_place(x, &mut h, &mut hebb, &mut scratch);
        StepCache { h, m, hebb, out }
    }

    /// Steps over `xs` (row-major) from activity `h0` and trace `hebb0`. The input side, which
    /// needs no recurrence, is one matrix product for the whole window.
    pub fn forward(&self, xs: &[f32], h0: &[f32], hebb0: &[f32]) -> Trajectory {
        let (n, inputs) = (self.hidden, self.inputs);
        let steps = xs.len() / inputs;
        let nn = n * n;
        // Column-major (n × steps) = W_in (n × I) · Xᵀ (I × steps): row-major (steps × n).
        let mut pre_in: Vec<f32> = (0..steps).flat_map(|_| self.t(B).iter().copied()).collect();
        gemm_acc(&transposed(self.t(W_IN), n, inputs), xs, &mut pre_in, n, inputs, steps);
        let mut h = vec![0.0; (steps + 1) * n];
        h[..n].copy_from_slice(h0);
        let mut traces = vec![0.0; (steps + 1) * nn];
        traces[..nn].copy_from_slice(hebb0);
        let (mut m, mut out) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
        let mut passes = Vec::with_capacity(if self.mlp > 0 { steps } else { 0 });
        for t in 0..steps {
            let (before, after) = h.split_at_mut((t + 1) * n);
            let (h_prev, h_new) = (&before[t * n..], &mut after[..n]);
            let (trace_before, trace_after) = traces.split_at_mut((t + 1) * nn);
            let trace_prev = &trace_before[t * nn..];
            self.activity(&pre_in[t * n..(t + 1) * n], h_prev, trace_prev, h_new);
            let mt = self.modulator(h_new);
            self.rule()
                .apply(trace_prev, mt, h_new, h_prev, &mut trace_after[..nn]);
            m.push(mt);
            let (y, pass) = self.head(h_new, &xs[t * inputs..(t + 1) * inputs]);
            out.push(y);
            passes.extend(pass);
        }
        Trajectory {
            hidden: n,
            inputs,
            x: xs[..steps * inputs].to_vec(),
            h,
            traces,
            m,
            out,
            passes,
        }
    }

    fn presence_logit(&self, h: &[f32]) -> f32 {
        self.t(PRESENCE_B)[0] + dot(self.t(PRESENCE_W), h)
    }

    /// Back through the steps of `tr`, seeded at each step with `∂L/∂out_t` and, when given,
    /// an extra `∂L/∂h_t` (row-major, (steps, hidden)): adds every parameter gradient to `grads`
    /// and, when asked, `∂L/∂x_t` to `dxs` (row-major, (steps, inputs)).
    fn backward(
        &self,
        tr: &Trajectory,
        dout: &[[f32; OUTPUTS]],
        dh_extra: Option<&[f32]>,
        grads: &mut Self,
        mut dxs: Option<&mut [f32]>,
    ) {
        let (n, inputs, steps) = (self.hidden, self.inputs, tr.len());
        let g = &mut grads.tensors;
        let (w, alpha) = (self.t(W), self.t(ALPHA));
        // ∂L/∂Hebb_t for the step being undone: after a step's pass, ∂L/∂Hebb_{t−1}.
        let mut ghebb = vec![0.0f32; n * n];
        let (mut gh_next, mut gh, mut gh_prev) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0; n]);
        let mut gpre = vec![0.0f32; n];
        // ∂L/∂pre of every step, row-major (hidden, steps): W_in's and W's gradients are then
        // one matrix product each.
        let mut gpre_all = vec![0.0f32; n * steps];
        for t in (0..steps).rev() {
            let (h, h_prev, e_prev, m) = (tr.activity(t), tr.h_before(t), tr.trace_before(t), tr.m[t]);
            gh.copy_from_slice(&gh_next);
            if let Some(extra) = dh_extra {
                for (a, b) in gh.iter_mut().zip(&extra[t * n..(t + 1) * n]) {
                    *a += b;
                }
            }
            // Head.
            if let Some(pass) = tr.passes.get(t) {
                let [w1, b1, w2, b2] = g
                    .get_disjoint_mut([MLP_W, MLP_B, HEAD_W, HEAD_B])
                    .unwrap_or_else(|_| unreachable!("four distinct tensors"));
                let into = MlpHeadGrads { w1, b1, w2, b2 };
                let dx = dxs.as_deref_mut().map(|d| &mut d[t * inputs..(t + 1) * inputs]);
                self.mlp_head().backward(pass, &dout[t], into, &mut gh, dx);
            } else {
                add_outer(&mut g[HEAD_W], &dout[t], h);
                for (gb, d) in g[HEAD_B].iter_mut().zip(&dout[t]) {
                    *gb += d;
                }
                add_transposed(self.t(HEAD_W), &dout[t], &mut gh);
            }
            // The trace: Hebb_t = clip(raw), raw = decay · Hebb_{t−1} + M h_t h_{t−1}ᵀ. Where the
            // clip bites the gradient stops; ghebb becomes ∂L/∂raw, and decay times that is
            // ∂L/∂Hebb_{t−1} through the sum.
            let mut gm = 0.0f32;
            gh_prev.fill(0.0);
            let rule = self.rule();
            for (i, (grow, erow)) in ghebb
                .chunks_exact_mut(n)
                .zip(e_prev.chunks_exact(n))
                .enumerate()
            {
                let mh = m * h[i];
                let mut s = 0.0f32;
                for (((gk, ek), hj), col) in grow.iter_mut().zip(erow).zip(h_prev).zip(gh_prev.iter_mut()) {
                    if rule.raw(*ek, mh, *hj).abs() >= rule.clip {
                        *gk = 0.0;
                    }
                    s += *gk * hj;
                    *col += *gk * h[i];
                }
                gm += h[i] * s;
                gh[i] += m * s;
            }
            for v in gh_prev.iter_mut() {
                *v *= m;
            }
            // The neuromodulator: M = tanh(w_M · h + b_M).
            let gmpre = gm * (1.0 - m * m);
            for ((gw, &hi), (ghi, &wm)) in g[MOD_W].iter_mut().zip(h).zip(gh.iter_mut().zip(self.t(MOD_W))) {
                *gw += gmpre * hi;
                *ghi += gmpre * wm;
            }
            g[MOD_B][0] += gmpre;
            // h = tanh(pre), pre = W_in x + b + (W + α ⊙ Hebb_{t−1}) h_{t−1}.
            for (i, (gp, (&ghi, &hi))) in gpre.iter_mut().zip(gh.iter().zip(h)).enumerate() {
                *gp = ghi * (1.0 - hi * hi);
                gpre_all[i * steps + t] = *gp;
            }
            for (gb, gp) in g[B].iter_mut().zip(&gpre) {
                *gb += gp;
            }
            let galpha = &mut g[ALPHA];
            for (i, &gp) in gpre.iter().enumerate() {
                let row = i * n..(i + 1) * n;
                for (((((ga, gk), &a), &wk), &ek), (&hj, ghp)) in galpha[row.clone()]
                    .iter_mut()
                    .zip(&mut ghebb[row.clone()])
                    .zip(&alpha[row.clone()])
                    .zip(&w[row.clone()])
                    .zip(&e_prev[row])
                    .zip(h_prev.iter().zip(gh_prev.iter_mut()))
                {
                    let outer = gp * hj;
                    *ga += outer * ek;
                    *gk = rule.decay * *gk + a * outer;
                    *ghp += (wk + a * ek) * gp;
                }
            }
            if let Some(dxs) = dxs.as_deref_mut() {
                add_transposed(self.t(W_IN), &gpre, &mut dxs[t * inputs..(t + 1) * inputs]);
            }
            std::mem::swap(&mut gh_next, &mut gh_prev);
        }
        // Column-major (I × n) = Xᵀ (I × steps) · ∂pre (steps × n): row-major ∂L/∂W_in.
        gemm_acc(&tr.x, &gpre_all, &mut g[W_IN], inputs, steps, n);
        // The same for W, from the activity before each step.
        gemm_acc(&tr.h[..steps * n], &gpre_all, &mut g[W], n, steps, n);
    }

    /// Loss of the steps of `tr` against squashed `targets` (2 per step) counted from step
    /// `from`, plus the presence loss when given; adds the gradient to `grads`.
    pub fn loss_and_grad(
        &self,
        tr: &Trajectory,
        targets: &[f32],
        presence: Option<(&[f32], f32)>,
        from: usize,
        grads: &mut Self,
    ) -> f64 {
        let (n, steps) = (self.hidden, tr.len());
        let counted = (steps.saturating_sub(from) * OUTPUTS).max(1) as f32;
        let counted_steps = steps.saturating_sub(from).max(1) as f32;
        let (mut loss, mut presence_loss) = (0.0f64, 0.0f64);
        let mut dout = vec![[0.0f32; OUTPUTS]; steps];
        let mut dh_extra = presence.map(|_| vec![0.0f32; steps * n]);
        let critical = crate::train::critical_label();
        for t in from..steps {
            let w = if self.critical_weight > 0.0 && targets[t * OUTPUTS + 1] <= critical {
                1.0 + self.critical_weight
            } else {
                1.0
            };
            for o in 0..OUTPUTS {
                let a = tr.out[t][o].tanh();
                let err = a - targets[t * OUTPUTS + o];
                loss += f64::from(w * err * err);
                dout[t][o] = 2.0 * w * err / counted * (1.0 - a * a);
            }
            if let (Some((labels, weight)), Some(extra)) = (presence, dh_extra.as_mut()) {
                let h = tr.activity(t);
                let logit = self.presence_logit(h);
                let label = labels[t];
                presence_loss +=
                    f64::from(logit.max(0.0) - logit * label + (-logit.abs()).exp().ln_1p());
                let d = weight * (1.0 / (1.0 + (-logit).exp()) - label) / counted_steps;
                for (gw, &hi) in grads.tensors[PRESENCE_W].iter_mut().zip(h) {
                    *gw += d * hi;
                }
                grads.tensors[PRESENCE_B][0] += d;
                for (e, w) in extra[t * n..(t + 1) * n].iter_mut().zip(self.t(PRESENCE_W)) {
                    *e = d * w;
                }
            }
        }
        self.backward(tr, &dout, dh_extra.as_deref(), grads, None);
        let weight = presence.map_or(0.0, |(_, w)| f64::from(w));
        loss / f64::from(counted) + weight * presence_loss / f64::from(counted_steps)
    }

    /// How much the squashed action after the last step of `tr` depends on each step's input:
    /// for every step, newest first, the Frobenius norm of `∂tanh(out)/∂x`.
    pub fn input_influence(&self, tr: &Trajectory) -> Vec<f64> {
        let steps = tr.len();
        if steps == 0 {
            return Vec::new();
        }
        let mut scratch = self.zeros_like();
        let mut squares = vec![0.0f64; steps];
        for o in 0..OUTPUTS {
            let a = tr.out[steps - 1][o].tanh();
            let mut dout = vec![[0.0f32; OUTPUTS]; steps];
            dout[steps - 1][o] = 1.0 - a * a;
            let mut dxs = vec![0.0f32; steps * self.inputs];
            self.backward(tr, &dout, None, &mut scratch, Some(&mut dxs));
            for (lag, dx) in dxs.chunks_exact(self.inputs).rev().enumerate() {
                squares[lag] += dx.iter().map(|v| f64::from(v * v)).sum::<f64>();
            }
        }
        squares.into_iter().map(f64::sqrt).collect()
    }

    /// The tensors of a weight file (the presence head left out; the head's hidden layer when
    /// it has one).
    pub fn weight_tensors(&self) -> BTreeMap<String, Tensor> {
        let (inputs, hidden, mlp) = (self.inputs, self.hidden, self.mlp);
        let mlp_layer = MLP_NAMES
            .iter()
            .zip(Self::mlp_shapes(inputs, hidden, mlp))
            .zip(&self.tensors[MLP_W..=MLP_B])
            .filter(|_| mlp > 0);
        NAMES
            .iter()
            .zip(Self::shapes(inputs, hidden, mlp))
            .zip(&self.tensors)
            .chain(mlp_layer)
            .map(|((name, shape), data)| ((*name).to_owned(), Tensor::new(shape, data.clone())))
            .collect()
    }

    /// Rebuilds the network from a loaded file, checking every shape against the config.
    pub fn from_weights(file: &mut WeightFile) -> Result<Self, Invalid> {
        let config: HebbianConfig = file.config("Hebbian", HebbianConfig::validate)?;
        let (inputs, hidden, mlp) = (file.normaliser.dim(), config.hidden, config.head_mlp);
        let mut tensors = Vec::with_capacity(NAMES.len() + 4);
        for (name, shape) in NAMES.iter().zip(Self::shapes(inputs, hidden, mlp)) {
            tensors.push(file.take(name, &shape)?);
        }
        let mut mlp_layer = vec![Vec::new(), Vec::new()];
        if mlp > 0 {
            for ((name, shape), t) in MLP_NAMES
                .iter()
                .zip(Self::mlp_shapes(inputs, hidden, mlp))
                .zip(&mut mlp_layer)
            {
                *t = file.take(name, &shape)?;
            }
        }
        file.no_extra_tensors()?;
        // A plastic coefficient this large would let one trace entry swamp its unit.
        if let Some(index) = tensors[ALPHA].iter().position(|a| a.abs() > 100.0) {
            return Err(Invalid::BadValue {
                name: "plastic.alpha".into(),
                must: "within ±100",
                value: tensors[ALPHA][index],
                index,
            });
        }
        tensors.extend([vec![0.0; hidden], vec![0.0]]);
        tensors.extend(mlp_layer);
        Ok(Self {
            inputs,
            hidden,
            decay: config.trace_decay,
            clip: config.trace_clip,
            mlp,
            critical_weight: config.critical_weight,
            tensors,
        })
    }
}

//! The plastic recurrent cell: parameters, one step forward (activity, neuromodulator, trace),
//! backpropagation through time through the trace, the influence of each input, and its tensors
//! in a weight file.

use super::HebbianConfig;
use crate::Invalid;
use crate::kernels::affine;
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

/// The parameters, row-major, in the order of `NAMES` (then the presence head). `W` and `α`
/// are (hidden, hidden), row i the unit that receives, column j the one that sends.
#[derive(Clone, Debug, PartialEq)]
pub struct HebbianParams {
    /// Observation elements.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// The tensors.
    pub tensors: Vec<Vec<f32>>,
}

/// What one step computed, kept for the backward pass.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepCache {
    x: Vec<f32>,
    h_prev: Vec<f32>,
    hebb_prev: Vec<f32>,
    /// The activity after this step, (hidden,).
    pub h: Vec<f32>,
    /// The neuromodulator: > 0 potentiates, < 0 depresses.
    pub m: f32,
    /// The trace before clipping, (hidden, hidden).
    raw: Vec<f32>,
    /// The trace after this step, (hidden, hidden).
    pub hebb: Vec<f32>,
    /// Raw outputs (pre-`tanh`).
    pub out: [f32; OUTPUTS],
}

impl HebbianParams {
    /// Shape of every tensor, in the order of `NAMES`.
    pub fn shapes(inputs: usize, hidden: usize) -> Vec<Vec<usize>> {
        vec![
            vec![hidden, inputs],
            vec![hidden],
            vec![hidden, hidden],
            vec![hidden, hidden],
            vec![hidden],
            vec![1],
            vec![OUTPUTS, hidden],
            vec![OUTPUTS],
        ]
    }

    /// Affine layers uniform in ±1/√fan_in, the plastic coefficients α uniform in ±0.1 (as
    /// the reference implementation starts them, small), biases and the presence head zero.
    pub fn init(inputs: usize, c: &HebbianConfig, rng: &mut impl rand::Rng) -> Self {
        use rand::RngExt;
        let h = c.hidden;
        let mut uniform = |len: usize, bound: f32| -> Vec<f32> {
            (0..len).map(|_| rng.random_range(-bound..bound)).collect()
        };
        let w_in = uniform(h * inputs, 1.0 / (inputs as f32).sqrt());
        let w = uniform(h * h, 1.0 / (h as f32).sqrt());
        let alpha = uniform(h * h, 0.1);
        let mod_w = uniform(h, 1.0 / (h as f32).sqrt());
        let head_w = uniform(OUTPUTS * h, 1.0 / (h as f32).sqrt());
        Self {
            inputs,
            hidden: h,
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

    /// The same network with plasticity switched off (α = 0): the ablation.
    pub fn without_plasticity(&self) -> Self {
        let mut p = self.clone();
        p.tensors[ALPHA].fill(0.0);
        p
    }

    fn t(&self, i: usize) -> &[f32] {
        &self.tensors[i]
    }

    /// One step from activity `h` and trace `hebb`.
    pub fn step(&self, x: &[f32], h: &[f32], hebb: &[f32]) -> StepCache {
        let n = self.hidden;
        let mut pre = vec![0.0; n]; // (hidden,)
        affine(self.t(W_IN), self.t(B), x, &mut pre);
        let (w, alpha) = (self.t(W), self.t(ALPHA));
        for i in 0..n {
            let row = i * n..(i + 1) * n;
            pre[i] += w[row.clone()]
                .iter()
                .zip(&alpha[row.clone()])
                .zip(&hebb[row])
                .zip(h)
                .map(|(((w, a), e), hj)| (w + a * e) * hj)
                .sum::<f32>();
        }
        let h_new: Vec<f32> = pre.iter().map(|v| v.tanh()).collect();
        let m = (self.t(MOD_B)[0]
            + self
                .t(MOD_W)
                .iter()
                .zip(&h_new)
                .map(|(a, b)| a * b)
                .sum::<f32>())
        .tanh();
        let mut raw = hebb.to_vec(); // (hidden, hidden)
        for i in 0..n {
            for j in 0..n {
                raw[i * n + j] += m * h_new[i] * h[j];
            }
        }
        let trace = raw.iter().map(|v| v.clamp(-1.0, 1.0)).collect();
        let mut out = [0.0; OUTPUTS];
        affine(self.t(HEAD_W), self.t(HEAD_B), &h_new, &mut out);
        StepCache {
            x: x.to_vec(),
            h_prev: h.to_vec(),
            hebb_prev: hebb.to_vec(),
            h: h_new,
            m,
            raw,
            hebb: trace,
            out,
        }
    }

    /// Steps over `xs` (row-major) from activity `h0` and trace `hebb0`.
    pub fn forward(&self, xs: &[f32], h0: &[f32], hebb0: &[f32]) -> Vec<StepCache> {
        let (mut h, mut hebb) = (h0.to_vec(), hebb0.to_vec());
        xs.chunks_exact(self.inputs)
            .map(|x| {
                let c = self.step(x, &h, &hebb);
                h.clone_from(&c.h);
                hebb.clone_from(&c.hebb);
                c
            })
            .collect()
    }

    fn presence_logit(&self, h: &[f32]) -> f32 {
        self.t(PRESENCE_B)[0]
            + self
                .t(PRESENCE_W)
                .iter()
                .zip(h)
                .map(|(w, x)| w * x)
                .sum::<f32>()
    }

    /// Back through the steps of `caches`, seeded at each step with `∂L/∂out_t` and an extra
    /// `∂L/∂h_t`: adds every parameter gradient to `grads` and, when asked, `∂L/∂x_t` to `dxs`.
    fn backward(
        &self,
        caches: &[StepCache],
        seeds: &[([f32; OUTPUTS], Option<Vec<f32>>)],
        grads: &mut Self,
        mut dxs: Option<&mut [Vec<f32>]>,
    ) {
        let n = self.hidden;
        let g = &mut grads.tensors;
        let (w, alpha) = (self.t(W), self.t(ALPHA));
        let mut gh_next = vec![0.0f32; n];
        let mut ghebb = vec![0.0f32; n * n];
        for (t, c) in caches.iter().enumerate().rev() {
            let (dout, extra) = &seeds[t];
            let mut gh = gh_next.clone();
            if let Some(e) = extra {
                for (a, b) in gh.iter_mut().zip(e) {
                    *a += b;
                }
            }
            // Head.
            for o in 0..OUTPUTS {
                for (i, hi) in c.h.iter().enumerate() {
                    g[HEAD_W][o * n + i] += dout[o] * hi;
                    gh[i] += dout[o] * self.t(HEAD_W)[o * n + i];
                }
                g[HEAD_B][o] += dout[o];
            }
            // The trace: Hebb_t = clip(raw), raw = Hebb_{t−1} + M h_t h_{t−1}ᵀ.
            let mut gh_prev = vec![0.0f32; n];
            let mut gm = 0.0f32;
            for i in 0..n {
                for j in 0..n {
                    let k = i * n + j;
                    if c.raw[k].abs() >= 1.0 {
                        ghebb[k] = 0.0;
                        continue;
                    }
                    let graw = ghebb[k];
                    gm += graw * c.h[i] * c.h_prev[j];
                    gh[i] += c.m * graw * c.h_prev[j];
                    gh_prev[j] += c.m * graw * c.h[i];
                }
            }
            // ghebb now holds ∂L/∂raw, which is also ∂L/∂Hebb_{t−1} through the sum.
            // The neuromodulator: M = tanh(w_M · h + b_M).
            let gmpre = gm * (1.0 - c.m * c.m);
            for (i, hi) in c.h.iter().enumerate() {
                g[MOD_W][i] += gmpre * hi;
                gh[i] += gmpre * self.t(MOD_W)[i];
            }
            g[MOD_B][0] += gmpre;
            // h = tanh(pre), pre = W_in x + b + (W + α ⊙ Hebb_{t−1}) h_{t−1}.
            let gpre: Vec<f32> = gh
                .iter()
                .zip(&c.h)
                .map(|(gv, hv)| gv * (1.0 - hv * hv))
                .collect();
            for (i, gp) in gpre.iter().enumerate() {
                g[B][i] += gp;
                for (jx, xj) in c.x.iter().enumerate() {
                    g[W_IN][i * self.inputs + jx] += gp * xj;
                }
                for j in 0..n {
                    let k = i * n + j;
                    let outer = gp * c.h_prev[j];
                    g[W][k] += outer;
                    g[ALPHA][k] += outer * c.hebb_prev[k];
                    ghebb[k] += alpha[k] * outer;
                    gh_prev[j] += (w[k] + alpha[k] * c.hebb_prev[k]) * gp;
                }
            }
            if let Some(dxs) = dxs.as_deref_mut() {
                for (i, gp) in gpre.iter().enumerate() {
                    for (jx, d) in dxs[t].iter_mut().enumerate() {
                        *d += gp * self.t(W_IN)[i * self.inputs + jx];
                    }
                }
            }
            gh_next = gh_prev;
        }
    }

    /// Loss of the steps of `caches` against squashed `targets` (2 per step) counted from step
    /// `from`, plus the presence loss when given; adds the gradient to `grads`.
    pub fn loss_and_grad(
        &self,
        caches: &[StepCache],
        targets: &[f32],
        presence: Option<(&[f32], f32)>,
        from: usize,
        grads: &mut Self,
    ) -> f64 {
        let steps = caches.len();
        let counted = (steps.saturating_sub(from) * OUTPUTS).max(1) as f32;
        let counted_steps = steps.saturating_sub(from).max(1) as f32;
        let (mut loss, mut presence_loss) = (0.0f64, 0.0f64);
        let mut seeds = vec![([0.0f32; OUTPUTS], None); steps];
        let mut presence_grads = (vec![0.0f32; self.hidden], 0.0f32);
        for (t, c) in caches.iter().enumerate().skip(from) {
            for o in 0..OUTPUTS {
                let a = c.out[o].tanh();
                let err = a - targets[t * OUTPUTS + o];
                loss += f64::from(err * err);
                seeds[t].0[o] = 2.0 * err / counted * (1.0 - a * a);
            }
            if let Some((labels, weight)) = presence {
                let logit = self.presence_logit(&c.h);
                let label = labels[t];
                presence_loss +=
                    f64::from(logit.max(0.0) - logit * label + (-logit.abs()).exp().ln_1p());
                let d = weight * (1.0 / (1.0 + (-logit).exp()) - label) / counted_steps;
                for (g, &h) in presence_grads.0.iter_mut().zip(&c.h) {
                    *g += d * h;
                }
                presence_grads.1 += d;
                seeds[t].1 = Some(self.t(PRESENCE_W).iter().map(|w| d * w).collect());
            }
        }
        self.backward(caches, &seeds, grads, None);
        for (g, p) in grads.tensors[PRESENCE_W].iter_mut().zip(&presence_grads.0) {
            *g += p;
        }
        grads.tensors[PRESENCE_B][0] += presence_grads.1;
        let weight = presence.map_or(0.0, |(_, w)| f64::from(w));
        loss / f64::from(counted) + weight * presence_loss / f64::from(counted_steps)
    }

    /// How much the squashed action after the last step of `caches` depends on each step's
    /// input: for every step, newest first, the Frobenius norm of `∂tanh(out)/∂x`.
    pub fn input_influence(&self, caches: &[StepCache]) -> Vec<f64> {
        let Some(last) = caches.last() else {
            return Vec::new();
        };
        let mut scratch = self.zeros_like();
        let mut squares = vec![0.0f64; caches.len()];
        for o in 0..OUTPUTS {
            let a = last.out[o].tanh();
            let mut seeds = vec![([0.0f32; OUTPUTS], None); caches.len()];
            seeds[caches.len() - 1].0[o] = 1.0 - a * a;
            let mut dxs = vec![vec![0.0f32; self.inputs]; caches.len()];
            self.backward(caches, &seeds, &mut scratch, Some(&mut dxs));
            for (lag, dx) in dxs.iter().rev().enumerate() {
                squares[lag] += dx.iter().map(|v| f64::from(v * v)).sum::<f64>();
            }
        }
        squares.into_iter().map(f64::sqrt).collect()
    }

    /// The tensors of a weight file (the presence head left out).
    pub fn weight_tensors(&self) -> BTreeMap<String, Tensor> {
        NAMES
            .iter()
            .zip(Self::shapes(self.inputs, self.hidden))
            .zip(&self.tensors)
            .map(|((name, shape), data)| ((*name).to_owned(), Tensor::new(shape, data.clone())))
            .collect()
    }

    /// Rebuilds the network from a loaded file, checking every shape against the config.
    pub fn from_weights(file: &mut WeightFile) -> Result<Self, Invalid> {
        let config: HebbianConfig = file.config("Hebbian", HebbianConfig::validate)?;
        let (inputs, hidden) = (file.normaliser.dim(), config.hidden);
        let mut tensors = Vec::with_capacity(NAMES.len() + 2);
        for (name, shape) in NAMES.iter().zip(Self::shapes(inputs, hidden)) {
            tensors.push(file.take(name, &shape)?);
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
        Ok(Self {
            inputs,
            hidden,
            tensors,
        })
    }
}

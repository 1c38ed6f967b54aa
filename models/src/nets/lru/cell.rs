//! The LRU's parameters, one step forward, backpropagation through time over a window, the
//! influence of each step's input, and its tensors in a weight file.

use super::LruConfig;
use crate::Invalid;
use crate::kernels::{add_outer, add_transposed, affine};
use crate::weights::{Tensor, WeightFile};
use std::collections::BTreeMap;

/// Outputs: steering and acceleration (pre-`tanh`).
const OUTPUTS: usize = 2;

const IN_W: usize = 0;
const IN_B: usize = 1;
const NU: usize = 2;
const THETA: usize = 3;
const GAMMA: usize = 4;
const B_RE: usize = 5;
const B_IM: usize = 6;
const C_RE: usize = 7;
const C_IM: usize = 8;
const D: usize = 9;
const MLP_W: usize = 10;
const MLP_B: usize = 11;
const HEAD_W: usize = 12;
const HEAD_B: usize = 13;
/// The auxiliary presence head (d_mlp,) and (1,): trained, never written to a weight file.
const PRESENCE_W: usize = 14;
const PRESENCE_B: usize = 15;

/// Tensor names, in storage order, as the reference implementations name them.
pub const NAMES: [&str; 14] = [
    "in.weight",
    "in.bias",
    "lru.nu_log",
    "lru.theta_log",
    "lru.gamma_log",
    "lru.B_re",
    "lru.B_im",
    "lru.C_re",
    "lru.C_im",
    "lru.D",
    "mlp.weight",
    "mlp.bias",
    "head.weight",
    "head.bias",
];

/// The LRU's parameters, row-major, in the order of `NAMES` (then the presence head).
#[derive(Clone, Debug, PartialEq)]
pub struct LruParams {
    /// Observation elements.
    pub inputs: usize,
    /// Width of the input projection and the recurrence's output.
    pub d_model: usize,
    /// Complex channels.
    pub state: usize,
    /// MLP width.
    pub d_mlp: usize,
    /// The tensors.
    pub tensors: Vec<Vec<f32>>,
}

/// λ and γ of every channel, computed from the parameters once per window (and once per
/// controller: they do not change while it drives).
#[derive(Clone, Debug)]
pub(super) struct Lambda {
    /// |λ| = exp(−exp(ν)).
    a: Vec<f32>,
    /// arg λ = exp(θ).
    phi: Vec<f32>,
    /// Re λ, Im λ.
    c: Vec<f32>,
    s: Vec<f32>,
    /// γ = exp(γlog).
    gamma: Vec<f32>,
}

/// What one step computed, kept for the backward pass.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepCache {
    x: Vec<f32>,
    u: Vec<f32>,
    h_prev: (Vec<f32>, Vec<f32>),
    bu: (Vec<f32>, Vec<f32>),
    /// The state after this step: (real parts, imaginary parts), (N,) each.
    pub h: (Vec<f32>, Vec<f32>),
    y: Vec<f32>,
    /// The MLP's features after relu, (d_mlp,).
    pub z: Vec<f32>,
    /// Raw outputs (pre-`tanh`).
    pub out: [f32; OUTPUTS],
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut impl rand::Rng) -> f32 {
    use rand::RngExt;
    let u1: f32 = rng.random_range(f32::MIN_POSITIVE..1.0);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// `out += W x` for row-major `w` of shape (out.len(), x.len()).
fn add_matvec(w: &[f32], x: &[f32], out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(w.chunks_exact(x.len())) {
        *o += crate::kernels::dot(row, x);
    }
}

impl LruParams {
    /// Shape of every tensor, in the order of `NAMES`.
    pub fn shapes(inputs: usize, c: &LruConfig) -> Vec<Vec<usize>> {
        let (d, n, m) = (c.d_model, c.state, c.d_mlp);
        vec![
            vec![d, inputs],
            vec![d],
            vec![n],
            vec![n],
            vec![n],
            vec![n, d],
            vec![n, d],
            vec![d, n],
            vec![d, n],
            vec![d],
            vec![m, d],
            vec![m],
            vec![OUTPUTS, m],
            vec![OUTPUTS],
        ]
    }

    /// As the paper initialises it: |λ| uniform in the ring r_min…r_max (in |λ|²), phases
    /// uniform in 0…max_phase, γ = √(1 − |λ|²), B and C Gaussian (variance 1/(2d), 1/N), D
    /// Gaussian; the affine layers uniform in ±1/√fan_in, biases zero.
    pub fn init(inputs: usize, c: &LruConfig, rng: &mut impl rand::Rng) -> Self {
        use rand::RngExt;
        let (d, n, m) = (c.d_model, c.state, c.d_mlp);
        let uniform = |rng: &mut dyn FnMut() -> f32, len: usize, fan_in: usize| -> Vec<f32> {
            let bound = 1.0 / (fan_in as f32).sqrt();
            (0..len).map(|_| bound * (2.0 * rng() - 1.0)).collect()
        };
        let mut draw = || rng.random::<f32>();
        let in_w = uniform(&mut draw, d * inputs, inputs);
        let (r2_min, r2_max) = (c.r_min * c.r_min, c.r_max * c.r_max);
        let mut nu = Vec::with_capacity(n);
        let mut theta = Vec::with_capacity(n);
        let mut gamma = Vec::with_capacity(n);
        for _ in 0..n {
            let r2 = r2_min + (r2_max - r2_min) * draw();
            // |λ| = exp(−exp(ν)) = √r2.
            let nu_j = (-0.5 * r2.ln()).ln();
            nu.push(nu_j);
            theta.push((c.max_phase * draw().max(1e-4)).ln());
            gamma.push((1.0 - r2).max(1e-8).sqrt().ln());
        }
        let mlp_w = uniform(&mut draw, m * d, d);
        let head_w = uniform(&mut draw, OUTPUTS * m, m);
        let mut gauss = |len: usize, std: f32| -> Vec<f32> {
            (0..len).map(|_| std * normal(rng)).collect()
        };
        let b_std = 1.0 / (2.0 * d as f32).sqrt();
        let c_std = 1.0 / (n as f32).sqrt();
        let (b_re, b_im) = (gauss(n * d, b_std), gauss(n * d, b_std));
        let (c_re, c_im) = (gauss(d * n, c_std), gauss(d * n, c_std));
        let dd = gauss(d, 1.0);
        Self {
            inputs,
            d_model: d,
            state: n,
            d_mlp: m,
            tensors: vec![
                in_w,
                vec![0.0; d],
                nu,
                theta,
                gamma,
                b_re,
                b_im,
                c_re,
                c_im,
                dd,
                mlp_w,
                vec![0.0; m],
                head_w,
                vec![0.0; OUTPUTS],
                // Zeros, drawing nothing: without the presence loss training is what it was.
                vec![0.0; m],
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

    fn t(&self, i: usize) -> &[f32] {
        &self.tensors[i]
    }

    pub(super) fn lambda(&self) -> Lambda {
        let a: Vec<f32> = self.t(NU).iter().map(|nu| (-nu.exp()).exp()).collect();
        let phi: Vec<f32> = self.t(THETA).iter().map(|th| th.exp()).collect();
        let c = a.iter().zip(&phi).map(|(a, p)| a * p.cos()).collect();
        let s = a.iter().zip(&phi).map(|(a, p)| a * p.sin()).collect();
        let gamma = self.t(GAMMA).iter().map(|g| g.exp()).collect();
        Lambda {
            a,
            phi,
            c,
            s,
            gamma,
        }
    }

    /// Each channel's half-life, ln 2 / exp(ν_j) steps, longest first: how long the state
    /// keeps half of what it held.
    pub fn half_lives(&self) -> Vec<f32> {
        let mut h: Vec<f32> = self
            .t(NU)
            .iter()
            .map(|nu| std::f32::consts::LN_2 / nu.exp())
            .collect();
        h.sort_by(|a, b| b.total_cmp(a));
        h
    }

    /// |λ_j| of every channel.
    pub fn magnitudes(&self) -> Vec<f32> {
        self.lambda().a
    }

    pub(super) fn step_with(&self, l: &Lambda, x: &[f32], h: (&[f32], &[f32])) -> StepCache {
        let (d, n, m) = (self.d_model, self.state, self.d_mlp);
        let (mut u, mut bu_re, mut bu_im) = (vec![0.0; d], vec![0.0; n], vec![0.0; n]);
        let (mut h_re, mut h_im) = (vec![0.0; n], vec![0.0; n]);
        self.state_step(
            l,
            x,
            h,
            (&mut u, &mut bu_re, &mut bu_im),
            (&mut h_re, &mut h_im),
        );
        // y = Re(C h) + D ⊙ u = C_re h_re − C_im h_im + D ⊙ u.
        let mut y: Vec<f32> = u.iter().zip(self.t(D)).map(|(u, d)| u * d).collect();
        add_matvec(self.t(C_RE), &h_re, &mut y);
        let mut minus = vec![0.0; d];
        add_matvec(self.t(C_IM), &h_im, &mut minus);
        for (yi, mi) in y.iter_mut().zip(&minus) {
            *yi -= mi;
        }
        let mut z = vec![0.0; m]; // (d_mlp,)
        affine(self.t(MLP_W), self.t(MLP_B), &y, &mut z);
        z.iter_mut().for_each(|v| *v = v.max(0.0));
        let mut out = [0.0; OUTPUTS];
        affine(self.t(HEAD_W), self.t(HEAD_B), &z, &mut out);
        StepCache {
            x: x.to_vec(),
            u,
            h_prev: (h.0.to_vec(), h.1.to_vec()),
            bu: (bu_re, bu_im),
            h: (h_re, h_im),
            y,
            z,
            out,
        }
    }

    /// The state part of a step: `u = W_in x + b_in`, `B u` (real, imaginary) into `scratch`,
    /// and the new state `λ h + γ (B u)` into `next`; the readout is left to the caller.
    fn state_step(
        &self,
        l: &Lambda,
        x: &[f32],
        h: (&[f32], &[f32]),
        scratch: (&mut [f32], &mut [f32], &mut [f32]),
        next: (&mut [f32], &mut [f32]),
    ) {
        let (u, bu_re, bu_im) = scratch;
        affine(self.t(IN_W), self.t(IN_B), x, u);
        bu_re.fill(0.0);
        bu_im.fill(0.0);
        add_matvec(self.t(B_RE), u, bu_re);
        add_matvec(self.t(B_IM), u, bu_im);
        for j in 0..self.state {
            next.0[j] = l.c[j] * h.0[j] - l.s[j] * h.1[j] + l.gamma[j] * bu_re[j];
            next.1[j] = l.s[j] * h.0[j] + l.c[j] * h.1[j] + l.gamma[j] * bu_im[j];
        }
    }

    /// The state (real parts then imaginary parts, 2N) before every step of `xs` from `h0`,
    /// appended to `out`: the arithmetic of [`Self::forward`] without the readout or what a
    /// backward pass needs (stored state runs every episode of the training data).
    pub fn run_state(&self, xs: &[f32], h0: &[f32], out: &mut Vec<f32>) {
        let (l, n) = (self.lambda(), self.state);
        let (mut re, mut im) = (h0[..n].to_vec(), h0[n..2 * n].to_vec());
        let (mut next_re, mut next_im) = (vec![0.0; n], vec![0.0; n]);
        let (mut u, mut bu_re, mut bu_im) = (vec![0.0; self.d_model], vec![0.0; n], vec![0.0; n]);
        for x in xs.chunks_exact(self.inputs) {
            out.extend_from_slice(&re);
            out.extend_from_slice(&im);
            self.state_step(
                &l,
                x,
                (&re, &im),
                (&mut u, &mut bu_re, &mut bu_im),
                (&mut next_re, &mut next_im),
            );
            std::mem::swap(&mut re, &mut next_re);
            std::mem::swap(&mut im, &mut next_im);
        }
    }

    /// One step from state `h` (real parts, imaginary parts).
    pub fn step(&self, x: &[f32], h: (&[f32], &[f32])) -> StepCache {
        self.step_with(&self.lambda(), x, h)
    }

    /// Steps over `xs` (row-major) from the state `h0` (real parts then imaginary parts, 2N).
    pub fn forward(&self, xs: &[f32], h0: &[f32]) -> Vec<StepCache> {
        let l = self.lambda();
        let n = self.state;
        let (mut re, mut im) = (h0[..n].to_vec(), h0[n..2 * n].to_vec());
        xs.chunks_exact(self.inputs)
            .map(|x| {
                let c = self.step_with(&l, x, (&re, &im));
                re.clone_from(&c.h.0);
                im.clone_from(&c.h.1);
                c
            })
            .collect()
    }

    /// The presence head's logit for features `z`.
    fn presence_logit(&self, z: &[f32]) -> f32 {
        self.t(PRESENCE_B)[0]
            + self
                .t(PRESENCE_W)
                .iter()
                .zip(z)
                .map(|(w, x)| w * x)
                .sum::<f32>()
    }

    /// Back through the steps of `caches`, seeded at each step with `∂L/∂out_t` and an extra
    /// `∂L/∂z_t` (`seeds`, one per step): adds every parameter gradient to `grads` and, when
    /// asked, `∂L/∂x_t` of every step to `dxs`.
    fn backward(
        &self,
        caches: &[StepCache],
        seeds: &[([f32; OUTPUTS], Option<Vec<f32>>)],
        grads: &mut Self,
        mut dxs: Option<&mut [Vec<f32>]>,
    ) {
        let (d, n, m) = (self.d_model, self.state, self.d_mlp);
        let l = self.lambda();
        let g = &mut grads.tensors;
        let (mut dh_re, mut dh_im) = (vec![0.0f32; n], vec![0.0f32; n]);
        for (t, c) in caches.iter().enumerate().rev() {
            let (dout, extra) = &seeds[t];
            // Head: out = W_2 z + b_2.
            let mut dz = extra.clone().unwrap_or_else(|| vec![0.0; m]); // (d_mlp,)
            add_outer(&mut g[HEAD_W], dout, &c.z);
            for (gb, d) in g[HEAD_B].iter_mut().zip(dout) {
                *gb += d;
            }
            add_transposed(self.t(HEAD_W), dout, &mut dz);
            // MLP: z = relu(W_1 y + b_1).
            for (dzi, zi) in dz.iter_mut().zip(&c.z) {
                if *zi <= 0.0 {
                    *dzi = 0.0;
                }
            }
            add_outer(&mut g[MLP_W], &dz, &c.y);
            for (gb, d) in g[MLP_B].iter_mut().zip(&dz) {
                *gb += d;
            }
            let mut dy = vec![0.0; d]; // (d,)
            add_transposed(self.t(MLP_W), &dz, &mut dy);
            // y = C_re h_re − C_im h_im + D ⊙ u.
            add_outer(&mut g[C_RE], &dy, &c.h.0);
            let minus_dy: Vec<f32> = dy.iter().map(|v| -v).collect();
            add_outer(&mut g[C_IM], &minus_dy, &c.h.1);
            add_transposed(self.t(C_RE), &dy, &mut dh_re);
            let mut from_im = vec![0.0; n];
            add_transposed(self.t(C_IM), &dy, &mut from_im);
            for (a, b) in dh_im.iter_mut().zip(&from_im) {
                *a -= b;
            }
            let mut du: Vec<f32> = dy.iter().zip(self.t(D)).map(|(g, d)| g * d).collect();
            for ((gd, dyi), ui) in g[D].iter_mut().zip(&dy).zip(&c.u) {
                *gd += dyi * ui;
            }
            // h = λ h' + γ (B u), as real and imaginary parts.
            let (mut dbu_re, mut dbu_im) = (vec![0.0; n], vec![0.0; n]);
            let (mut prev_re, mut prev_im) = (vec![0.0; n], vec![0.0; n]);
            for j in 0..n {
                let (gr, gi) = (dh_re[j], dh_im[j]);
                let (hr, hi) = (c.h_prev.0[j], c.h_prev.1[j]);
                g[GAMMA][j] += (gr * c.bu.0[j] + gi * c.bu.1[j]) * l.gamma[j];
                dbu_re[j] = l.gamma[j] * gr;
                dbu_im[j] = l.gamma[j] * gi;
                // Re λ = a cos φ, Im λ = a sin φ.
                let dc = gr * hr + gi * hi;
                let ds = -gr * hi + gi * hr;
                let da = dc * l.phi[j].cos() + ds * l.phi[j].sin();
                let dphi = -dc * l.s[j] + ds * l.c[j];
                // a = exp(−exp(ν)), φ = exp(θ).
                g[NU][j] += da * l.a[j] * -self.t(NU)[j].exp();
                g[THETA][j] += dphi * l.phi[j];
                prev_re[j] = l.c[j] * gr + l.s[j] * gi;
                prev_im[j] = -l.s[j] * gr + l.c[j] * gi;
            }
            add_outer(&mut g[B_RE], &dbu_re, &c.u);
            add_outer(&mut g[B_IM], &dbu_im, &c.u);
            add_transposed(self.t(B_RE), &dbu_re, &mut du);
            add_transposed(self.t(B_IM), &dbu_im, &mut du);
            // u = W_in x + b_in.
            add_outer(&mut g[IN_W], &du, &c.x);
            for (gb, d) in g[IN_B].iter_mut().zip(&du) {
                *gb += d;
            }
            if let Some(dxs) = dxs.as_deref_mut() {
                add_transposed(self.t(IN_W), &du, &mut dxs[t]);
            }
            dh_re = prev_re;
            dh_im = prev_im;
        }
    }

    /// Loss of the steps of `caches` against squashed `targets` (2 per step), counted from
    /// step `from`, plus the presence loss (`labels`, weight) when given; adds the gradient to
    /// `grads` (backpropagation through time).
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
        let mut presence_grads = (vec![0.0f32; self.d_mlp], 0.0f32);
        for (t, c) in caches.iter().enumerate().skip(from) {
            for o in 0..OUTPUTS {
                let a = c.out[o].tanh();
                let err = a - targets[t * OUTPUTS + o];
                loss += f64::from(err * err);
                seeds[t].0[o] = 2.0 * err / counted * (1.0 - a * a);
            }
            if let Some((labels, weight)) = presence {
                let logit = self.presence_logit(&c.z);
                let label = labels[t];
                presence_loss +=
                    f64::from(logit.max(0.0) - logit * label + (-logit.abs()).exp().ln_1p());
                let d = weight * (1.0 / (1.0 + (-logit).exp()) - label) / counted_steps;
                for (g, &z) in presence_grads.0.iter_mut().zip(&c.z) {
                    *g += d * z;
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
    /// input: for every step, newest first, the Frobenius norm of `∂tanh(out)/∂x` (2 × inputs).
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
        let config = LruConfig {
            d_model: self.d_model,
            state: self.state,
            d_mlp: self.d_mlp,
            ..LruConfig::default()
        };
        NAMES
            .iter()
            .zip(Self::shapes(self.inputs, &config))
            .zip(&self.tensors)
            .map(|((name, shape), data)| ((*name).to_owned(), Tensor::new(shape, data.clone())))
            .collect()
    }

    /// Rebuilds the network from a loaded file, checking every shape against the config and
    /// that every channel forgets (|λ| < 1, finite phases and gains).
    pub fn from_weights(file: &mut WeightFile) -> Result<Self, Invalid> {
        let config: LruConfig = file.config("LRU", LruConfig::validate)?;
        let inputs = file.normaliser.dim();
        let mut tensors = Vec::with_capacity(NAMES.len() + 2);
        for (name, shape) in NAMES.iter().zip(Self::shapes(inputs, &config)) {
            tensors.push(file.take(name, &shape)?);
        }
        file.no_extra_tensors()?;
        // |λ| = exp(−exp(ν)) < 1 needs exp(ν) > 0 and finite: ν within ±30 keeps λ and its
        // half-life representable.
        for (name, i, low, high) in [
            ("lru.nu_log", NU, -30.0, 30.0),
            ("lru.theta_log", THETA, -30.0, 10.0),
            ("lru.gamma_log", GAMMA, -30.0, 10.0),
        ] {
            if let Some(index) = tensors[i].iter().position(|v| !(low..=high).contains(v)) {
                return Err(Invalid::BadValue {
                    name: name.into(),
                    must: "within its range (|λ| < 1, finite phase and gain)",
                    value: tensors[i][index],
                    index,
                });
            }
        }
        tensors.extend([vec![0.0; config.d_mlp], vec![0.0]]);
        Ok(Self {
            inputs,
            d_model: config.d_model,
            state: config.state,
            d_mlp: config.d_mlp,
            tensors,
        })
    }
}

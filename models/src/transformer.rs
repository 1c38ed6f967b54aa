//! The transformer over the last K frames: exact working memory inside its window, nothing
//! beyond it.
//!
//! Each frame becomes a token `t = W_in x + b_in` (d_model). One pre-norm block reads out from
//! the newest token, which attends to every frame in the window (all of them are its past, so
//! the attention is causal):
//!
//! ```text
//! a_j  = LN1(t_j)
//! q    = W_q a_new + b_q,  k_j = W_k a_j + b_k + K_age[age_j],  v_j = W_v a_j + b_v + V_age[age_j]
//! head h: p_h = softmax_j(q_h · k_{j,h} / √d_head),   o_h = Σ_j p_{h,j} v_{j,h}
//! u    = t_new + W_o [o_1 … o_H] + b_o
//! m    = u + W_2 relu(W_1 LN2(u) + b_1) + b_2
//! y    = W_head LN_f(m) + b_head        (then tanh into the car's limits)
//! ```
//!
//! The frame-age embedding is added to keys and values after their projections, so the
//! projections of a frame never change as it ages: at inference the controller keeps them in a
//! ring buffer (a key-value cache) and one step costs O(K·d), not O(K²·d). With a single block,
//! reading out from the newest token only is exact. Backward passes are checked against finite
//! differences in the tests.

use crate::kernels::{affine, dot};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the transformer controller and its training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerConfig {
    /// Frames in the window (K); 16 frames = 1.6 s.
    pub window: usize,
    /// Token width.
    pub d_model: usize,
    /// Attention heads (d_model must divide evenly).
    pub heads: usize,
    /// Hidden width of the MLP.
    pub d_mlp: usize,
    /// Adam step size.
    pub learning_rate: f32,
    /// Largest global gradient norm.
    pub clip_norm: f32,
    /// Samples (windows) per gradient step.
    pub batch: usize,
    /// Gradient steps in each training round.
    pub steps_per_round: usize,
    /// Weight of the auxiliary presence loss: a logistic head on the readout's final features,
    /// trained to tell whether a pedestrian the car saw is hidden ahead now (ground truth, in
    /// training only; the head is not part of the controller). 0 turns it off; files written
    /// before it existed lack the field: 0.
    #[serde(default)]
    pub presence_loss: f32,
}

impl Default for TransformerConfig {
    fn default() -> Self {
        Self {
            window: 16,
            d_model: 32,
            heads: 2,
            d_mlp: 64,
            learning_rate: 2e-3,
            clip_norm: 1.0,
            batch: 64,
            steps_per_round: 1500,
            presence_loss: 0.0,
        }
    }
}

impl TransformerConfig {
    /// An error naming the first unusable value.
    pub fn validate(&self) -> std::result::Result<(), String> {
        use crate::bounds::*;
        let check = || -> std::result::Result<(), String> {
            count("window", self.window, 1, MAX_WINDOW_STEPS)?;
            count("d_model", self.d_model, 1, MAX_WIDTH)?;
            count("heads", self.heads, 1, self.d_model.min(16))?;
            if !self.d_model.is_multiple_of(self.heads) {
                return Err(format!(
                    "d_model ({}) must be a multiple of heads ({})",
                    self.d_model, self.heads
                ));
            }
            count("d_mlp", self.d_mlp, 1, 4 * MAX_WIDTH)?;
            presence_weight(self.presence_loss)?;
            optimiser(
                self.learning_rate,
                self.clip_norm,
                self.batch,
                self.steps_per_round,
            )?;
            gradient_steps(
                "max(d_model, d_mlp)",
                self.steps_per_round,
                self.batch,
                self.window,
                self.d_model.max(self.d_mlp),
            )
        };
        check().map_err(|why| format!("transformer config: {why}"))
    }
}

/// Outputs: steering and acceleration (pre-`tanh`).
const OUTPUTS: usize = 2;
const LN_EPS: f32 = 1e-5;

/// Parameters, row-major, PyTorch-style names in `named`.
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerParams {
    /// Observation elements.
    pub inputs: usize,
    /// Frames in the window.
    pub window: usize,
    /// Token width.
    pub d_model: usize,
    /// Heads.
    pub heads: usize,
    /// MLP width.
    pub d_mlp: usize,
    /// Tensors in the order of `NAMES`.
    pub tensors: Vec<Vec<f32>>,
}

/// Tensor names, in storage order.
pub const NAMES: [&str; 24] = [
    "embed.weight",
    "embed.bias",
    "attn.0.ln.weight",
    "attn.0.ln.bias",
    "attn.0.q_proj.weight",
    "attn.0.q_proj.bias",
    "attn.0.k_proj.weight",
    "attn.0.k_proj.bias",
    "attn.0.v_proj.weight",
    "attn.0.v_proj.bias",
    "attn.0.age_key",
    "attn.0.age_value",
    "attn.0.out_proj.weight",
    "attn.0.out_proj.bias",
    "mlp.0.ln.weight",
    "mlp.0.ln.bias",
    "mlp.0.fc1.weight",
    "mlp.0.fc1.bias",
    "mlp.0.fc2.weight",
    "mlp.0.fc2.bias",
    "ln_f.weight",
    "ln_f.bias",
    "head.weight",
    "head.bias",
];

// Indices into `tensors`.
const EMBED_W: usize = 0;
const EMBED_B: usize = 1;
const LN1_G: usize = 2;
const LN1_B: usize = 3;
const Q_W: usize = 4;
const Q_B: usize = 5;
const K_W: usize = 6;
const K_B: usize = 7;
const V_W: usize = 8;
const V_B: usize = 9;
const AGE_K: usize = 10;
const AGE_V: usize = 11;
const O_W: usize = 12;
const O_B: usize = 13;
const LN2_G: usize = 14;
const LN2_B: usize = 15;
const FC1_W: usize = 16;
const FC1_B: usize = 17;
const FC2_W: usize = 18;
const FC2_B: usize = 19;
const LNF_G: usize = 20;
const LNF_B: usize = 21;
const HEAD_W: usize = 22;
const HEAD_B: usize = 23;
/// The auxiliary presence head (d,) and (1,): trained, never written to a weight file (after
/// the tensors of `NAMES`).
const PRESENCE_W: usize = 24;
const PRESENCE_B: usize = 25;

/// Layer-norm results: (output, normalised x̂, 1/σ).
type NormOut = (Vec<f32>, Vec<f32>, f32);
/// A frame's cache entry: its key and value projections (before the age embedding) and the
/// layer norm they were computed from.
pub type KeyValue = (Vec<f32>, Vec<f32>, NormOut);

/// Backward of `y = W x + b`: adds to the weight and bias gradients and to `dx`.
fn affine_backward(
    w: &[f32],
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: &mut [f32],
) {
    for (((row, dw_row), dbi), &g) in w
        .chunks_exact(x.len())
        .zip(dw.chunks_exact_mut(x.len()))
        .zip(db.iter_mut())
        .zip(dy)
    {
        *dbi += g;
        for ((dwij, &xj), (dxj, &wij)) in dw_row.iter_mut().zip(x).zip(dx.iter_mut().zip(row)) {
            *dwij += g * xj;
            *dxj += g * wij;
        }
    }
}

/// Layer norm forward: returns (output, normalised x̂, 1/σ).
fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32]) -> NormOut {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + LN_EPS).sqrt();
    let xhat: Vec<f32> = x.iter().map(|v| (v - mean) * inv).collect();
    let out = xhat
        .iter()
        .zip(gamma)
        .zip(beta)
        .map(|((h, g), b)| h * g + b)
        .collect();
    (out, xhat, inv)
}

/// Layer norm backward: adds to dγ, dβ and `dx`.
fn layer_norm_backward(
    xhat: &[f32],
    inv: f32,
    gamma: &[f32],
    dy: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    dx: &mut [f32],
) {
    let n = xhat.len() as f32;
    let dxhat: Vec<f32> = dy.iter().zip(gamma).map(|(d, g)| d * g).collect();
    for i in 0..xhat.len() {
        dgamma[i] += dy[i] * xhat[i];
        dbeta[i] += dy[i];
    }
    let sum: f32 = dxhat.iter().sum();
    let sum_xhat: f32 = dxhat.iter().zip(xhat).map(|(d, h)| d * h).sum();
    for i in 0..xhat.len() {
        dx[i] += inv / n * (n * dxhat[i] - sum - xhat[i] * sum_xhat);
    }
}

/// Everything one readout computed, kept for the backward pass.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Readout {
    /// Raw outputs (pre-`tanh`).
    pub y: [f32; 2],
    /// Attention of the newest token to each frame, per head: `[head][frame]`, oldest first.
    pub attention: Vec<Vec<f32>>,
    frames: Vec<Vec<f32>>,
    tokens: Vec<Vec<f32>>,
    ln1: Vec<NormOut>,
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    query: Vec<f32>,
    heads_out: Vec<f32>,
    u: Vec<f32>,
    ln2: NormOut,
    hidden: Vec<f32>,
    m: Vec<f32>,
    lnf: NormOut,
}

impl TransformerParams {
    /// Shape of every tensor, in the order of `NAMES`.
    pub fn shapes(inputs: usize, c: &TransformerConfig) -> Vec<Vec<usize>> {
        let (d, k, f) = (c.d_model, c.window, c.d_mlp);
        vec![
            vec![d, inputs],
            vec![d],
            vec![d],
            vec![d],
            vec![d, d],
            vec![d],
            vec![d, d],
            vec![d],
            vec![d, d],
            vec![d],
            vec![k, d],
            vec![k, d],
            vec![d, d],
            vec![d],
            vec![d],
            vec![d],
            vec![f, d],
            vec![f],
            vec![d, f],
            vec![d],
            vec![d],
            vec![d],
            vec![OUTPUTS, d],
            vec![OUTPUTS],
        ]
    }

    /// Weights uniform in ±1/√fan_in, biases and age embeddings zero, layer norms identity.
    pub fn init(inputs: usize, c: &TransformerConfig, rng: &mut impl rand::Rng) -> Self {
        use rand::RngExt;
        assert!(c.heads >= 1 && c.d_model.is_multiple_of(c.heads) && c.window >= 1);
        let tensors = Self::shapes(inputs, c)
            .iter()
            .zip(NAMES)
            .map(|(shape, name)| {
                let n: usize = shape.iter().product();
                if name.ends_with("ln.weight") || name == "ln_f.weight" {
                    vec![1.0; n]
                } else if shape.len() == 2 && !name.contains("age") {
                    let bound = 1.0 / (shape[1] as f32).sqrt();
                    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
                } else {
                    vec![0.0; n]
                }
            })
            // Zeros, drawing nothing: without the presence loss training is what it was.
            .chain([vec![0.0; c.d_model], vec![0.0]])
            .collect();
        Self {
            inputs,
            window: c.window,
            d_model: c.d_model,
            heads: c.heads,
            d_mlp: c.d_mlp,
            tensors,
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

    /// A frame's token.
    pub fn token(&self, x: &[f32]) -> Vec<f32> {
        let mut t = vec![0.0; self.d_model];
        affine(self.t(EMBED_W), self.t(EMBED_B), x, &mut t);
        t
    }

    /// Key and value projections of a token (age embedding not yet added): the cache entry.
    pub fn key_value(&self, token: &[f32]) -> KeyValue {
        let ln = layer_norm(token, self.t(LN1_G), self.t(LN1_B));
        let (mut k, mut v) = (vec![0.0; self.d_model], vec![0.0; self.d_model]);
        affine(self.t(K_W), self.t(K_B), &ln.0, &mut k);
        affine(self.t(V_W), self.t(V_B), &ln.0, &mut v);
        (k, v, ln)
    }

    /// The readout from the newest of `frames` (oldest first, at most `window`), given each
    /// frame's token and its cached key/value projections.
    pub fn readout_cached(&self, tokens: &[Vec<f32>], cache: &[KeyValue]) -> Readout {
        let (d, heads) = (self.d_model, self.heads);
        let dh = d / heads;
        let n = tokens.len();
        assert!(n >= 1 && n <= self.window && cache.len() == n);
        // Frame j (oldest first) has age n-1-j.
        let keys: Vec<Vec<f32>> = cache
            .iter()
            .enumerate()
            .map(|(j, (k, _, _))| {
                let age = &self.t(AGE_K)[(n - 1 - j) * d..(n - j) * d];
                k.iter().zip(age).map(|(a, b)| a + b).collect()
            })
            .collect();
        let values: Vec<Vec<f32>> = cache
            .iter()
            .enumerate()
            .map(|(j, (_, v, _))| {
                let age = &self.t(AGE_V)[(n - 1 - j) * d..(n - j) * d];
                v.iter().zip(age).map(|(a, b)| a + b).collect()
            })
            .collect();
        let newest_ln = &cache[n - 1].2.0;
        let mut query = vec![0.0; d];
        affine(self.t(Q_W), self.t(Q_B), newest_ln, &mut query);
        let scale = 1.0 / (dh as f32).sqrt();
        let mut attention = Vec::with_capacity(heads);
        let mut heads_out = vec![0.0; d];
        for h in 0..heads {
            let span = h * dh..(h + 1) * dh;
            let scores: Vec<f32> = keys
                .iter()
                .map(|k| dot(&query[span.clone()], &k[span.clone()]) * scale)
                .collect();
            let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exps: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
            let total: f32 = exps.iter().sum();
            let p: Vec<f32> = exps.iter().map(|e| e / total).collect();
            for (pj, v) in p.iter().zip(&values) {
                for (o, vi) in heads_out[span.clone()].iter_mut().zip(&v[span.clone()]) {
                    *o += pj * vi;
                }
            }
            attention.push(p);
        }
        let mut u = vec![0.0; d];
        affine(self.t(O_W), self.t(O_B), &heads_out, &mut u);
        for (ui, ti) in u.iter_mut().zip(&tokens[n - 1]) {
            *ui += ti;
        }
        let ln2 = layer_norm(&u, self.t(LN2_G), self.t(LN2_B));
        let mut hidden = vec![0.0; self.d_mlp];
        affine(self.t(FC1_W), self.t(FC1_B), &ln2.0, &mut hidden);
        hidden.iter_mut().for_each(|v| *v = v.max(0.0));
        let mut m = vec![0.0; d];
        affine(self.t(FC2_W), self.t(FC2_B), &hidden, &mut m);
        for (mi, ui) in m.iter_mut().zip(&u) {
            *mi += ui;
        }
        let lnf = layer_norm(&m, self.t(LNF_G), self.t(LNF_B));
        let mut y = [0.0; OUTPUTS];
        affine(self.t(HEAD_W), self.t(HEAD_B), &lnf.0, &mut y);
        Readout {
            y,
            attention,
            frames: Vec::new(),
            tokens: tokens.to_vec(),
            ln1: cache.iter().map(|c| c.2.clone()).collect(),
            keys,
            values,
            query,
            heads_out,
            u,
            ln2,
            hidden,
            m,
            lnf,
        }
    }

    /// The readout for a window of frames (row-major, oldest first), computed from scratch.
    pub fn readout(&self, frames: &[f32]) -> Readout {
        let tokens: Vec<Vec<f32>> = frames
            .chunks_exact(self.inputs)
            .map(|x| self.token(x))
            .collect();
        let cache: Vec<_> = tokens.iter().map(|t| self.key_value(t)).collect();
        let mut r = self.readout_cached(&tokens, &cache);
        r.frames = frames
            .chunks_exact(self.inputs)
            .map(<[f32]>::to_vec)
            .collect();
        r
    }

    /// Loss `mean_o (tanh(y_o) − target_o)²` of one readout (made by `readout`); adds its
    /// gradient, scaled by `weight`, to `grads` and returns the loss.
    pub fn loss_and_grad(
        &self,
        r: &Readout,
        target: [f32; 2],
        presence: Option<(f32, f32)>,
        weight: f32,
        grads: &mut Self,
    ) -> f64 {
        let mut loss = 0.0f64;
        let mut dy = [0.0f32; OUTPUTS];
        for o in 0..OUTPUTS {
            let a = r.y[o].tanh();
            let err = a - target[o];
            loss += f64::from(err * err) / OUTPUTS as f64;
            dy[o] = weight * 2.0 * err / OUTPUTS as f32 * (1.0 - a * a);
        }
        // The presence head reads the same final features as the action head.
        let mut dlnf = vec![0.0f32; self.d_model];
        if let Some((label, lambda)) = presence {
            let features = &r.lnf.0;
            let logit = self.t(PRESENCE_B)[0]
                + self
                    .t(PRESENCE_W)
                    .iter()
                    .zip(features)
                    .map(|(w, x)| w * x)
                    .sum::<f32>();
            // Cross-entropy from the logit, stable for large |logit|.
            loss +=
                f64::from(lambda * (logit.max(0.0) - logit * label + (-logit.abs()).exp().ln_1p()));
            let d = weight * lambda * (1.0 / (1.0 + (-logit).exp()) - label);
            for ((g, &x), (dl, &w)) in grads.tensors[PRESENCE_W]
                .iter_mut()
                .zip(features)
                .zip(dlnf.iter_mut().zip(self.t(PRESENCE_W)))
            {
                *g += d * x;
                *dl += d * w;
            }
            grads.tensors[PRESENCE_B][0] += d;
        }
        self.backward(r, dy, &dlnf, grads);
        loss
    }

    /// How much the squashed action of readout `r` (made by `readout`) depends on each frame of
    /// its window: for every frame, newest first, the Frobenius norm of `∂tanh(y)/∂x` (2 ×
    /// inputs). Frames older than the window are not in it, so their influence is zero.
    pub fn input_influence(&self, r: &Readout) -> Vec<f64> {
        let mut scratch = self.zeros_like();
        let mut squares = vec![0.0f64; r.frames.len()];
        for o in 0..OUTPUTS {
            let a = r.y[o].tanh();
            let mut dy = [0.0f32; OUTPUTS];
            dy[o] = 1.0 - a * a;
            let none = vec![0.0; self.d_model];
            for (lag, dx) in self
                .backward(r, dy, &none, &mut scratch)
                .iter()
                .rev()
                .enumerate()
            {
                squares[lag] += dx.iter().map(|v| f64::from(v * v)).sum::<f64>();
            }
        }
        squares.into_iter().map(f64::sqrt).collect()
    }

    /// Back-propagates `dy = ∂L/∂y`, plus `extra_dlnf`, a gradient reaching the final
    /// features another way, through readout `r`: adds the parameter gradients to `grads` and
    /// returns `∂L/∂x` for every frame, oldest first.
    fn backward(
        &self,
        r: &Readout,
        dy: [f32; OUTPUTS],
        extra_dlnf: &[f32],
        grads: &mut Self,
    ) -> Vec<Vec<f32>> {
        let (d, heads, n) = (self.d_model, self.heads, r.tokens.len());
        let dh = d / heads;
        let g = &mut grads.tensors;
        // Head.
        let mut dlnf = extra_dlnf.to_vec();
        {
            let (dw, db) = two(g, HEAD_W, HEAD_B);
            affine_backward(self.t(HEAD_W), &r.lnf.0, &dy, dw, db, &mut dlnf);
        }
        let mut dm = vec![0.0; d];
        {
            let (dg, dbeta) = two(g, LNF_G, LNF_B);
            layer_norm_backward(&r.lnf.1, r.lnf.2, self.t(LNF_G), &dlnf, dg, dbeta, &mut dm);
        }
        // MLP with residual: m = u + fc2(relu(fc1(LN2(u)))).
        let mut du = dm.clone();
        let mut dhidden = vec![0.0; self.d_mlp];
        {
            let (dw, db) = two(g, FC2_W, FC2_B);
            affine_backward(self.t(FC2_W), &r.hidden, &dm, dw, db, &mut dhidden);
        }
        for (dhi, hi) in dhidden.iter_mut().zip(&r.hidden) {
            if *hi <= 0.0 {
                *dhi = 0.0;
            }
        }
        let mut dln2 = vec![0.0; d];
        {
            let (dw, db) = two(g, FC1_W, FC1_B);
            affine_backward(self.t(FC1_W), &r.ln2.0, &dhidden, dw, db, &mut dln2);
        }
        {
            let (dg, dbeta) = two(g, LN2_G, LN2_B);
            layer_norm_backward(&r.ln2.1, r.ln2.2, self.t(LN2_G), &dln2, dg, dbeta, &mut du);
        }
        // Attention with residual: u = t_new + out_proj(heads).
        let mut dtokens = vec![vec![0.0; d]; n];
        for (a, b) in dtokens[n - 1].iter_mut().zip(&du) {
            *a += b;
        }
        let mut dheads = vec![0.0; d];
        {
            let (dw, db) = two(g, O_W, O_B);
            affine_backward(self.t(O_W), &r.heads_out, &du, dw, db, &mut dheads);
        }
        let scale = 1.0 / (dh as f32).sqrt();
        let mut dquery = vec![0.0; d];
        let mut dkeys = vec![vec![0.0; d]; n];
        let mut dvalues = vec![vec![0.0; d]; n];
        for h in 0..heads {
            let span = h * dh..(h + 1) * dh;
            let p = &r.attention[h];
            // o = Σ p_j v_j  →  dv_j = p_j do,  dp_j = do · v_j.
            let dp: Vec<f32> = r
                .values
                .iter()
                .map(|v| dot(&dheads[span.clone()], &v[span.clone()]))
                .collect();
            for (j, dv) in dvalues.iter_mut().enumerate() {
                for (a, b) in dv[span.clone()].iter_mut().zip(&dheads[span.clone()]) {
                    *a += p[j] * b;
                }
            }
            // Softmax: ds_j = p_j (dp_j − Σ p dp).
            let mean: f32 = p.iter().zip(&dp).map(|(a, b)| a * b).sum();
            for j in 0..n {
                let ds = p[j] * (dp[j] - mean) * scale;
                for (i, idx) in span.clone().enumerate() {
                    dquery[idx] += ds * r.keys[j][span.start + i];
                    dkeys[j][idx] += ds * r.query[idx];
                }
            }
        }
        // Keys and values: projections of LN1(t_j) plus age embeddings.
        let mut dln1 = vec![vec![0.0; d]; n];
        for j in 0..n {
            let age = n - 1 - j;
            for i in 0..d {
                g[AGE_K][age * d + i] += dkeys[j][i];
                g[AGE_V][age * d + i] += dvalues[j][i];
            }
            let a = &r.ln1[j].0;
            {
                let (dw, db) = two(g, K_W, K_B);
                affine_backward(self.t(K_W), a, &dkeys[j], dw, db, &mut dln1[j]);
            }
            {
                let (dw, db) = two(g, V_W, V_B);
                affine_backward(self.t(V_W), a, &dvalues[j], dw, db, &mut dln1[j]);
            }
        }
        {
            let (dw, db) = two(g, Q_W, Q_B);
            let a = &r.ln1[n - 1].0;
            affine_backward(self.t(Q_W), a, &dquery, dw, db, &mut dln1[n - 1]);
        }
        for j in 0..n {
            let (xhat, inv) = (&r.ln1[j].1, r.ln1[j].2);
            let (dg, dbeta) = two(g, LN1_G, LN1_B);
            layer_norm_backward(
                xhat,
                inv,
                self.t(LN1_G),
                &dln1[j],
                dg,
                dbeta,
                &mut dtokens[j],
            );
        }
        // Tokens: t_j = W_in x_j + b_in.
        r.frames
            .iter()
            .zip(&dtokens)
            .map(|(frame, dt)| {
                let mut dx = vec![0.0; self.inputs];
                let (dw, db) = two(g, EMBED_W, EMBED_B);
                affine_backward(self.t(EMBED_W), frame, dt, dw, db, &mut dx);
                dx
            })
            .collect()
    }
}

/// Two distinct tensors of a gradient list, mutably.
fn two(g: &mut [Vec<f32>], a: usize, b: usize) -> (&mut [f32], &mut [f32]) {
    assert!(a < b);
    let (left, right) = g.split_at_mut(b);
    (&mut left[a], &mut right[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn small() -> TransformerConfig {
        TransformerConfig {
            window: 4,
            d_model: 6,
            heads: 2,
            d_mlp: 5,
            ..TransformerConfig::default()
        }
    }

    /// Every parameter tensor's gradient against central finite differences (ε = 1e-2, f32).
    /// Bound: |analytic − numeric| ≤ 2e-2 · max(|analytic|, |numeric|) + 3e-4.
    #[test]
    fn backpropagation_matches_finite_differences() {
        // (Seed 11 put one ReLU of the MLP within ε of its kink for embed.bias[2] once the
        // presence head weighed in: a finite difference across a kink is no derivative.)
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let inputs = 5;
        let mut params = TransformerParams::init(inputs, &small(), &mut rng);
        // Non-trivial layer norms, biases and age embeddings.
        for (t, name) in params.tensors.iter_mut().zip(NAMES) {
            if !name.ends_with("weight") || name.contains("ln") {
                for v in t.iter_mut() {
                    *v += rng.random_range(-0.3..0.3);
                }
            }
        }
        let frames: Vec<f32> = (0..3 * inputs)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        // A presence head that is not zero, so its gradient reaches the features (drawn after
        // the frames: the points checked stay clear of the MLP's kinks).
        for v in &mut params.tensors[PRESENCE_W] {
            *v = rng.random_range(-0.5..0.5);
        }
        let target = [0.3, -0.6];
        let presence = Some((1.0, 0.7));
        let mut grads = params.zeros_like();
        params.loss_and_grad(&params.readout(&frames), target, presence, 1.0, &mut grads);
        let loss = |p: &TransformerParams| {
            let mut scratch = p.zeros_like();
            p.loss_and_grad(&p.readout(&frames), target, presence, 1.0, &mut scratch)
        };
        let eps = 1e-2f32;
        let names = NAMES.iter().chain(&["presence.weight", "presence.bias"]);
        for (tensor, name) in names.enumerate() {
            for i in 0..params.tensors[tensor].len() {
                let mut plus = params.clone();
                plus.tensors[tensor][i] += eps;
                let mut minus = params.clone();
                minus.tensors[tensor][i] -= eps;
                let numeric = ((loss(&plus) - loss(&minus)) / f64::from(2.0 * eps)) as f32;
                let a = grads.tensors[tensor][i];
                let bound = 2e-2 * a.abs().max(numeric.abs()) + 3e-4;
                assert!(
                    (a - numeric).abs() <= bound,
                    "{name}[{i}]: analytic {a}, numeric {numeric}"
                );
            }
        }
    }

    /// The cached readout (projections computed once per frame) equals the from-scratch one.
    #[test]
    fn the_key_value_cache_gives_the_same_readout() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let params = TransformerParams::init(5, &small(), &mut rng);
        let frames: Vec<f32> = (0..4 * 5).map(|_| rng.random_range(-1.0..1.0)).collect();
        let scratch = params.readout(&frames);
        let tokens: Vec<Vec<f32>> = frames.chunks_exact(5).map(|x| params.token(x)).collect();
        let cache: Vec<_> = tokens.iter().map(|t| params.key_value(t)).collect();
        let cached = params.readout_cached(&tokens, &cache);
        assert_eq!(scratch.y, cached.y);
        for p in &cached.attention {
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    /// A small random transformer with identity normalisation, and a maker of frames whose
    /// every element is one value.
    fn controller_fixture(
        seed: u64,
    ) -> (
        std::sync::Arc<TransformerParams>,
        std::sync::Arc<crate::normaliser::Normaliser>,
        impl Fn(f32) -> memdrive_sim::Observation,
    ) {
        use memdrive_sim::{Observation, ObservationSpec};
        use std::sync::Arc;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let spec = Arc::new(ObservationSpec::new(4));
        let dim = spec.len();
        let params = Arc::new(TransformerParams::init(dim, &small(), &mut rng));
        let normaliser = crate::normaliser::Normaliser::from_parts(vec![0.0; dim], vec![1.0; dim]);
        let normaliser = Arc::new(normaliser.unwrap_or_else(|| panic!("valid statistics")));
        let frame = move |v: f32| {
            let mut o = Observation::zeros(spec.clone());
            o.copy_from(&vec![v; dim]);
            o
        };
        (params, normaliser, frame)
    }

    /// A window shrunk at run time to L < K frames forgets exactly as the trained one does at
    /// K: histories that differ only more than L steps back give bit-identical actions.
    #[test]
    fn a_shrunk_window_forgets_exactly_beyond_its_limit() {
        use memdrive_sim::Controller;
        let (params, normaliser, frame) = controller_fixture(17);
        let run = |limit: usize, first: f32, then: usize| {
            let c = TransformerController::new(params.clone(), normaliser.clone());
            let mut c = c
                .with_window_limit(limit)
                .unwrap_or_else(|| panic!("limit {limit}"));
            c.act(&frame(first));
            (0..then).map(|_| c.act(&frame(0.3))).last()
        };
        for limit in 1..=small().window {
            assert_eq!(run(limit, 1.0, limit), run(limit, -1.0, limit), "{limit}");
            if limit > 1 {
                assert_ne!(run(limit, 1.0, limit - 1), run(limit, -1.0, limit - 1));
            }
        }
        // The full window is the trained controller, bit for bit.
        let full = {
            let mut c = TransformerController::new(params.clone(), normaliser.clone());
            c.act(&frame(1.0));
            (0..2).map(|_| c.act(&frame(0.3))).last()
        };
        assert_eq!(full, run(small().window, 1.0, 2));
        let c = TransformerController::new(params.clone(), normaliser.clone());
        assert!(c.clone().with_window_limit(0).is_none());
        assert!(c.with_window_limit(small().window + 1).is_none());
    }

    /// A frame older than K steps is gone: two histories that differ only more than K steps
    /// back give bit-identical actions, and ones that differ inside the window do not.
    #[test]
    fn the_controller_forgets_exactly_beyond_its_window() {
        use crate::{MemoryController, MemorySnapshot};
        use memdrive_sim::Controller;
        let (params, normaliser, frame) = controller_fixture(13);
        let run = |first: f32, then: usize| {
            let mut c = TransformerController::new(params.clone(), normaliser.clone());
            c.act(&frame(first));
            let mut last = c.act(&frame(0.3));
            for _ in 1..then {
                last = c.act(&frame(0.3));
            }
            (last, c)
        };
        let k = small().window;
        // After K more frames the first one has left the window.
        assert_eq!(run(1.0, k).0, run(-1.0, k).0);
        // After K-1 more it is still inside and changes the action.
        assert_ne!(run(1.0, k - 1).0, run(-1.0, k - 1).0);
        let (_, mut c) = run(1.0, 2);
        let MemorySnapshot::Transformer {
            ages, attention, ..
        } = c.memory()
        else {
            panic!("not a transformer snapshot");
        };
        assert_eq!(ages, vec![2, 1, 0]);
        assert_eq!(attention.len(), 2);
        assert!(
            attention
                .iter()
                .all(|p| p.len() == 3 && (p.iter().sum::<f32>() - 1.0).abs() < 1e-5)
        );
        c.forget();
        let MemorySnapshot::Transformer { ages, .. } = c.memory() else {
            panic!("not a transformer snapshot");
        };
        assert!(ages.is_empty());
    }
}

/// Trains for `config.steps_per_round` Adam steps on random windows (the last K frames up to a
/// random row of a random episode). Per-sample gradients are computed in parallel and summed
/// in sample order, so the result does not depend on `threads`. `on_step(step, steps, loss)`
/// hears of every step and stops training early by returning `false`. Returns the mean loss of
/// the last 20 steps.
pub fn train_samples(
    params: &mut TransformerParams,
    adam: &mut crate::adam::Adam,
    config: &TransformerConfig,
    data: &crate::gru::Sequences<'_>,
    rng: &mut rand_chacha::ChaCha8Rng,
    threads: Option<usize>,
    on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> f64 {
    use rand::RngExt;
    let dim = params.inputs;
    let usable: Vec<&std::ops::Range<usize>> =
        data.episodes.iter().filter(|e| !e.is_empty()).collect();
    assert!(!usable.is_empty(), "no episode to train on");
    let weight = 1.0 / config.batch as f32;
    let mut recent = Vec::new();
    for step in 0..config.steps_per_round {
        let samples: Vec<(usize, usize)> = (0..config.batch)
            .map(|_| {
                let e = usable[rng.random_range(0..usable.len())];
                let row = rng.random_range(e.clone());
                ((row + 1).saturating_sub(config.window).max(e.start), row)
            })
            .collect();
        let per_sample = memdrive_sim::parallel::map_ordered(
            &samples,
            threads,
            || (),
            |(), &(first, last)| {
                let mut grads = params.zeros_like();
                let readout = params.readout(&data.inputs[first * dim..(last + 1) * dim]);
                let target = [data.targets[last * 2], data.targets[last * 2 + 1]];
                let presence = (config.presence_loss > 0.0)
                    .then(|| (data.presence[last], config.presence_loss));
                let loss = params.loss_and_grad(&readout, target, presence, weight, &mut grads);
                (loss, grads)
            },
        );
        let mut total = params.zeros_like();
        let mut loss = 0.0;
        for (l, g) in &per_sample {
            loss += l / per_sample.len() as f64;
            for (t, gi) in total.tensors.iter_mut().zip(&g.tensors) {
                for (a, b) in t.iter_mut().zip(gi) {
                    *a += b;
                }
            }
        }
        let grads: Vec<&Vec<f32>> = total.tensors.iter().collect();
        let mut tensors: Vec<&mut Vec<f32>> = params.tensors.iter_mut().collect();
        adam.step(&mut tensors, &grads);
        recent.push(loss);
        if !on_step(step, config.steps_per_round, loss) {
            break;
        }
    }
    let tail = &recent[recent.len().saturating_sub(20)..];
    tail.iter().sum::<f64>() / tail.len().max(1) as f64
}

impl TransformerParams {
    /// The tensors of a weight file.
    pub fn weight_tensors(&self) -> std::collections::BTreeMap<String, crate::weights::Tensor> {
        let config = TransformerConfig {
            window: self.window,
            d_model: self.d_model,
            heads: self.heads,
            d_mlp: self.d_mlp,
            ..TransformerConfig::default()
        };
        NAMES
            .iter()
            .zip(Self::shapes(self.inputs, &config))
            .zip(&self.tensors)
            .map(|((name, shape), data)| {
                (
                    (*name).to_owned(),
                    crate::weights::Tensor::new(shape, data.clone()),
                )
            })
            .collect()
    }

    /// Rebuilds the network from a loaded file, checking every shape against the config.
    pub fn from_weights(
        file: &mut crate::weights::WeightFile,
    ) -> std::result::Result<Self, String> {
        let config: TransformerConfig = serde_json::from_value(file.config.clone())
            .map_err(|e| format!("metadata `config` is not a transformer configuration: {e}"))?;
        config
            .validate()
            .map_err(|why| format!("metadata `config`: {why}"))?;
        let inputs = file.normaliser.dim();
        let mut tensors = Vec::with_capacity(NAMES.len());
        for (name, shape) in NAMES.iter().zip(Self::shapes(inputs, &config)) {
            tensors.push(file.take(name, &shape)?);
        }
        tensors.extend([vec![0.0; config.d_model], vec![0.0]]);
        file.no_extra_tensors()?;
        Ok(Self {
            inputs,
            window: config.window,
            d_model: config.d_model,
            heads: config.heads,
            d_mlp: config.d_mlp,
            tensors,
        })
    }
}

/// One cached frame: its token, and its key/value projections with the layer norm behind them.
type CachedFrame = (Vec<f32>, KeyValue);

/// A transformer's window as a value: the frames it holds, oldest first.
#[derive(Clone, Debug)]
pub struct WindowState {
    frames: Vec<CachedFrame>,
}

impl WindowState {
    /// An empty window: what `forget` leaves.
    pub fn empty() -> Self {
        Self { frames: Vec::new() }
    }
}

/// The transformer driving: the window of the last K frames is its memory, kept as a ring
/// buffer of tokens and key/value projections.
#[derive(Clone, Debug)]
pub struct TransformerController {
    params: std::sync::Arc<TransformerParams>,
    normaliser: std::sync::Arc<crate::normaliser::Normaliser>,
    scale: crate::action::ActionScale,
    input: Vec<f32>,
    window: std::collections::VecDeque<CachedFrame>,
    attention: Vec<Vec<f32>>,
    /// Frames it may look back over: the trained window K, or fewer when shrunk at run time.
    limit: usize,
}

impl TransformerController {
    /// The same controller looking back over at most `frames` frames (1…K): a shrunk window,
    /// so a user can watch the cliff of its memory move. Frames beyond it are dropped as
    /// frames beyond K always are; the weights (and the age embeddings of the frames it keeps)
    /// are unchanged. `None` for a limit outside 1…K.
    pub fn with_window_limit(mut self, frames: usize) -> Option<Self> {
        if frames == 0 || frames > self.params.window {
            return None;
        }
        self.limit = frames;
        while self.window.len() > self.limit {
            self.window.pop_front();
        }
        Some(self)
    }

    /// A controller with an empty window.
    pub fn new(
        params: std::sync::Arc<TransformerParams>,
        normaliser: std::sync::Arc<crate::normaliser::Normaliser>,
    ) -> Self {
        let (inputs, k) = (params.inputs, params.window);
        Self {
            params,
            normaliser,
            scale: crate::action::ActionScale::default(),
            input: vec![0.0; inputs],
            window: std::collections::VecDeque::with_capacity(k + 1),
            attention: Vec::new(),
            limit: k,
        }
    }
}

impl memdrive_sim::Controller for TransformerController {
    fn name(&self) -> &str {
        "transformer"
    }

    fn reset(&mut self) {
        self.window.clear();
        self.attention.clear();
    }

    fn act(&mut self, obs: &memdrive_sim::Observation) -> memdrive_sim::Controls {
        self.normaliser.apply(obs.values(), &mut self.input);
        let token = self.params.token(&self.input);
        let kv = self.params.key_value(&token);
        self.window.push_back((token, kv));
        while self.window.len() > self.limit {
            self.window.pop_front();
        }
        let (tokens, cache): (Vec<Vec<f32>>, Vec<_>) = self.window.iter().cloned().unzip();
        let readout = self.params.readout_cached(&tokens, &cache);
        self.attention = readout.attention;
        self.scale.controls(readout.y)
    }
}

impl crate::MemoryController for TransformerController {
    fn memory(&self) -> crate::MemorySnapshot {
        let n = self.window.len() as u32;
        crate::MemorySnapshot::Transformer {
            ages: (0..n).rev().collect(),
            attention: self.attention.clone(),
            values: self.window.iter().map(|(_, (_, v, _))| v.clone()).collect(),
        }
    }

    fn forget(&mut self) {
        self.window.clear();
        self.attention.clear();
    }

    fn memory_state(&self) -> crate::MemoryState {
        crate::MemoryState::Transformer(WindowState {
            frames: self.window.iter().cloned().collect(),
        })
    }

    fn set_memory_state(&mut self, state: &crate::MemoryState) -> crate::Result<()> {
        let d = self.params.d_model;
        let into = || format!("a transformer of width {d}");
        let crate::MemoryState::Transformer(w) = state else {
            return Err(crate::Error::MemoryMismatch {
                found: format!("the memory of a {}", state.kind()),
                into: into(),
            });
        };
        if let Some((token, _)) = w.frames.iter().find(|(t, _)| t.len() != d) {
            return Err(crate::Error::MemoryMismatch {
                found: format!("the window of a transformer of width {}", token.len()),
                into: into(),
            });
        }
        // Frames beyond this controller's window are gone, as they would be had it seen them.
        let keep = w.frames.len().min(self.limit);
        self.window = w.frames[w.frames.len() - keep..].iter().cloned().collect();
        self.attention.clear();
        Ok(())
    }
}

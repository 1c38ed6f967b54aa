//! Layers shared by the networks, each with its backward pass beside it: the affine map's
//! backward, layer norm, and a head with a hidden layer. (The affine map's forward, a plain
//! kernel, is `kernels::affine`.)

use crate::kernels::affine;

/// Layer norm's ε, as PyTorch's default.
const LN_EPS: f32 = 1e-5;

/// Layer-norm results: (output, normalised x̂, 1/σ).
pub type NormOut = (Vec<f32>, Vec<f32>, f32);
/// Backward of `y = W x + b`: adds to the weight and bias gradients and to `dx`.
pub fn affine_backward(
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
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32]) -> NormOut {
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
pub fn layer_norm_backward(
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

/// A head with a hidden layer reads the present input clipped to ± this many standard
/// deviations: a feature all but constant in the expert's data (a tiny standard deviation)
/// would otherwise reach it a thousand times too large in a state only a learner reaches,
/// where a recurrent cell's squashing gates protect the memory.
pub const HEAD_INPUT_CLIP: f32 = 4.0;

/// A head reading a memory state `h` and the present input `x` through one hidden layer:
/// `y = W₂ relu(W₁ [h; clip(x)] + b₁) + b₂`, two outputs.
#[derive(Clone, Copy, Debug)]
pub struct MlpHead<'a> {
    /// (M, H + I).
    pub w1: &'a [f32],
    /// (M,).
    pub b1: &'a [f32],
    /// (2, M).
    pub w2: &'a [f32],
    /// (2,).
    pub b2: &'a [f32],
}

/// The gradients of an [`MlpHead`]'s tensors, added to.
pub struct MlpHeadGrads<'a> {
    /// (M, H + I).
    pub w1: &'a mut [f32],
    /// (M,).
    pub b1: &'a mut [f32],
    /// (2, M).
    pub w2: &'a mut [f32],
    /// (2,).
    pub b2: &'a mut [f32],
}

/// What one pass through an [`MlpHead`] computed, kept for its backward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadPass {
    /// The head's input `[h; clip(x)]`.
    hx: Vec<f32>,
    /// The hidden layer after relu.
    z: Vec<f32>,
    /// The raw outputs.
    pub y: [f32; 2],
}

impl MlpHead<'_> {
    /// One pass from memory state `h` and present input `x`.
    pub fn forward(&self, h: &[f32], x: &[f32]) -> HeadPass {
        let clipped = x.iter().map(|v| v.clamp(-HEAD_INPUT_CLIP, HEAD_INPUT_CLIP));
        let hx: Vec<f32> = h.iter().copied().chain(clipped).collect();
        let mut z = vec![0.0; self.b1.len()];
        affine(self.w1, self.b1, &hx, &mut z);
        z.iter_mut().for_each(|v| *v = v.max(0.0));
        let mut y = [0.0; 2];
        affine(self.w2, self.b2, &z, &mut y);
        HeadPass { hx, z, y }
    }

    /// Back through `pass` given `dy = ∂L/∂y`: adds to `grads`, to `dh`, and to `dx` when
    /// given (zero where the input was clipped).
    pub fn backward(
        &self,
        pass: &HeadPass,
        dy: &[f32; 2],
        grads: MlpHeadGrads<'_>,
        dh: &mut [f32],
        dx: Option<&mut [f32]>,
    ) {
        let HeadPass { hx, z, .. } = pass;
        let mut dz = vec![0.0; z.len()];
        affine_backward(self.w2, z, dy, grads.w2, grads.b2, &mut dz);
        for (d, &v) in dz.iter_mut().zip(z) {
            if v <= 0.0 {
                *d = 0.0;
            }
        }
        let mut dhx = vec![0.0; hx.len()];
        affine_backward(self.w1, hx, &dz, grads.w1, grads.b1, &mut dhx);
        let (dh_part, dx_part) = dhx.split_at(dh.len());
        for (d, g) in dh.iter_mut().zip(dh_part) {
            *d += g;
        }
        if let Some(dx) = dx {
            // A clipped input sits at ±the bound exactly; inside it the clip passes gradients.
            for ((d, g), v) in dx.iter_mut().zip(dx_part).zip(&hx[dh.len()..]) {
                if v.abs() < HEAD_INPUT_CLIP {
                    *d += g;
                }
            }
        }
    }
}

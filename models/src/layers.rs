//! Layers shared by the networks, each with its backward pass beside it: the affine map's
//! backward and layer norm. (The affine map's forward, a plain kernel, is `kernels::affine`.)

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

// x = LN(x + residual), one invocation per row (without a residual when `residual` is 0).
// Rows are a few hundred values and a sequence has at most a few hundred rows: a row per
// invocation needs no barriers, which CPU drivers (lavapipe, SwiftShader) pay dearly for.

struct Params {
    rows: u32,
    d: u32,
    residual: u32,
    eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> r: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let row = id.x;
    if (row >= p.rows) {
        return;
    }
    let base = row * p.d;
    var s = 0.0;
    for (var k = 0u; k < p.d; k++) {
        var v = x[base + k];
        if (p.residual != 0u) {
            v += r[base + k];
        }
        x[base + k] = v;
        s += v;
    }
    let mean = s / f32(p.d);
    var q = 0.0;
    for (var k = 0u; k < p.d; k++) {
        let dv = x[base + k] - mean;
        q += dv * dv;
    }
    let rstd = inverseSqrt(q / f32(p.d) + p.eps);
    for (var k = 0u; k < p.d; k++) {
        x[base + k] = (x[base + k] - mean) * rstd * gamma[k] + beta[k];
    }
}

// Eqs. 8-10, one invocation per cell (i, j): v = a_i + b_j, then LN, ELU, and for each label
// sigmoid(v . tag_l + bias_l), in three passes over the hidden values without storing v
// (the hidden table of eq. 8 is never stored, and no barrier is needed). With `upper`,
// cells j < i are skipped (the buffer starts zeroed). At most MAX_LABELS labels.

struct Params {
    n: u32,
    h: u32,
    k: u32,
    upper: u32,
    eps: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
// gamma (h), beta (h), then the tagger's bias (k).
@group(0) @binding(3) var<storage, read> norm: array<f32>;
@group(0) @binding(4) var<storage, read> tag: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const MAX_LABELS: u32 = 32u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let j = id.x;
    let i = id.y;
    if (j >= p.n || i >= p.n || (p.upper != 0u && j < i)) {
        return;
    }
    let ai = i * p.h;
    let bj = j * p.h;
    var s = 0.0;
    for (var c = 0u; c < p.h; c++) {
        s += a[ai + c] + b[bj + c];
    }
    let mean = s / f32(p.h);
    var q = 0.0;
    for (var c = 0u; c < p.h; c++) {
        let dv = a[ai + c] + b[bj + c] - mean;
        q += dv * dv;
    }
    let rstd = inverseSqrt(q / f32(p.h) + p.eps);
    var acc: array<f32, MAX_LABELS>;
    for (var c = 0u; c < p.h; c++) {
        let y = (a[ai + c] + b[bj + c] - mean) * rstd * norm[c] + norm[p.h + c];
        let v = select(exp(min(y, 0.0)) - 1.0, y, y > 0.0);
        for (var l = 0u; l < p.k; l++) {
            acc[l] += v * tag[l * p.h + c];
        }
    }
    let cell = (i * p.n + j) * p.k;
    for (var l = 0u; l < p.k; l++) {
        out[cell + l] = 1.0 / (1.0 + exp(-(acc[l] + norm[2u * p.h + l])));
    }
}

// Scaled dot-product attention, one invocation per (query row, head): the softmax is taken
// online (a running maximum and sum, the context rescaled when the maximum grows), so no
// row of scores is stored and no barrier is needed. Rows of qkv are [q | k | v] (`[t, 3d]`);
// the context is `[t, d]`. A head has at most MAX_DH values.

struct Params {
    t: u32,
    heads: u32,
    d: u32,
    dh: u32,
    scale: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> ctx: array<f32>;

const MAX_DH: u32 = 128u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    let h = id.y;
    if (i >= p.t || h >= p.heads) {
        return;
    }
    let row = 3u * p.d;
    let q0 = i * row + h * p.dh;
    var acc: array<f32, MAX_DH>;
    var m = -3.4e38;
    var z = 0.0;
    for (var j = 0u; j < p.t; j++) {
        let k0 = j * row + p.d + h * p.dh;
        var s = 0.0;
        for (var c = 0u; c < p.dh; c++) {
            s += qkv[q0 + c] * qkv[k0 + c];
        }
        s *= p.scale;
        let m2 = max(m, s);
        let keep = exp(m - m2);
        let e = exp(s - m2);
        z = z * keep + e;
        let v0 = j * row + 2u * p.d + h * p.dh;
        for (var c = 0u; c < p.dh; c++) {
            acc[c] = acc[c] * keep + e * qkv[v0 + c];
        }
        m = m2;
    }
    for (var c = 0u; c < p.dh; c++) {
        ctx[i * p.d + h * p.dh + c] = acc[c] / z;
    }
}

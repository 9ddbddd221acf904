// Eqs. 1-6, one invocation per sub-token: candidates through tanh, gates through sigmoid,
// H_ner = [g_e_task * h_e ; g_r_inter * h_r], H_re = [g_r_task * h_r ; g_e_inter * h_e].
// An ablated gate has index NONE: a task gate then passes its candidate through, an
// interaction gate's half is absent. With `means`, each gate's mean activation per
// sub-token goes to row k of `m` (`[4, n]`).

struct Params {
    n: u32,
    hd: u32,
    width: u32,
    ner_w: u32,
    re_w: u32,
    means: u32,
    cand_e: u32,
    cand_r: u32,
    gate: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> ner: array<f32>;
@group(0) @binding(3) var<storage, read_write> re: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;

const NONE: u32 = 0xffffffffu;

fn sigmoid(v: f32) -> f32 {
    return 1.0 / (1.0 + exp(-v));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= p.n) {
        return;
    }
    let row = i * p.width;
    var sums = vec4<f32>(0.0);
    for (var c = 0u; c < p.hd; c++) {
        let ce = tanh(z[row + p.cand_e * p.hd + c]);
        let cr = tanh(z[row + p.cand_r * p.hd + c]);
        var g = vec4<f32>(1.0);
        for (var k = 0u; k < 4u; k++) {
            if (p.gate[k] != NONE) {
                g[k] = sigmoid(z[row + p.gate[k] * p.hd + c]);
            }
        }
        ner[i * p.ner_w + c] = g[0] * ce;
        re[i * p.re_w + c] = g[1] * cr;
        if (p.gate[2] != NONE) {
            re[i * p.re_w + p.hd + c] = g[2] * ce;
        }
        if (p.gate[3] != NONE) {
            ner[i * p.ner_w + p.hd + c] = g[3] * cr;
        }
        sums += g;
    }
    if (p.means != 0u) {
        for (var k = 0u; k < 4u; k++) {
            m[k * p.n + i] = sums[k] / f32(p.hd);
        }
    }
}

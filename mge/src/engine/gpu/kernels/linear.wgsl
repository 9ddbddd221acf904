// y = act(x W^T + b) with W stored as int8 (four values to a u32, each row padded to whole
// chunks of 32) and one f32 scale per block of 32 values along a row: the bundle's q8
// values, uploaded as they are and dequantized here. With `block` 0 the words are f32
// values instead (rows padded the same way). Words and scales are input-major (`w[k *
// output + col]`): neighbouring invocations read neighbouring words.
//
// One invocation computes one output column for TR rows, so there are no barriers (a
// barrier is cheap on a GPU but costs a context switch per invocation in CPU drivers such as
// lavapipe and SwiftShader); the rows of x are read by every invocation alike, which the
// caches serve.

struct Params {
    rows: u32,
    input: u32,
    output: u32,
    block: u32,   // 32: int8 weights with a scale per 32 values; 0: f32 weights
    act: u32,     // 0 none, 1 GELU (erf), 2 GELU (tanh), 3 ReLU
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const TR: u32 = 8u;

// The four signed bytes of a word, lowest first.
fn bytes4(word: u32) -> vec4<f32> {
    let b = bitcast<i32>(word);
    return vec4<f32>(
        f32((b << 24u) >> 24u),
        f32((b << 16u) >> 24u),
        f32((b << 8u) >> 24u),
        f32(b >> 24u),
    );
}

// erf by Abramowitz and Stegun 7.1.26 (error below 1.5e-7).
fn erf(v: f32) -> f32 {
    let a = abs(v);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return sign(v) * (1.0 - poly * exp(-a * a));
}

fn activate(v: f32) -> f32 {
    switch p.act {
        case 1u: { return 0.5 * v * (1.0 + erf(v * 0.70710678)); }
        case 2u: { return 0.5 * v * (1.0 + tanh(0.7978846 * (v + 0.044715 * v * v * v))); }
        case 3u: { return max(v, 0.0); }
        default: { return v; }
    }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let col = id.x;
    let row0 = id.y * TR;
    if (col >= p.output) {
        return;
    }
    var acc: array<f32, 8>;
    let quantized = p.block != 0u;
    let chunks = (p.input + 31u) / 32u;
    for (var c = 0u; c < chunks; c++) {
        var scale = 1.0;
        if (quantized) {
            scale = scales[c * p.output + col];
        }
        for (var q = 0u; q < 8u; q++) {
            let k = c * 32u + q * 4u;
            if (k >= p.input) {
                break;
            }
            var wv: vec4<f32>;
            if (quantized) {
                wv = bytes4(w[(c * 8u + q) * p.output + col]) * scale;
            } else {
                let o = p.output;
                wv = vec4<f32>(bitcast<f32>(w[k * o + col]), bitcast<f32>(w[(k + 1u) * o + col]), bitcast<f32>(w[(k + 2u) * o + col]), bitcast<f32>(w[(k + 3u) * o + col]));
            }
            for (var r = 0u; r < TR; r++) {
                let row = row0 + r;
                if (row >= p.rows) {
                    break;
                }
                let o = row * p.input + k;
                // Inputs past the row's end meet zero weights (the padding), but must not be
                // read from the next row's start or past the buffer.
                var xv = vec4<f32>(0.0);
                if (k + 3u < p.input) {
                    xv = vec4<f32>(x[o], x[o + 1u], x[o + 2u], x[o + 3u]);
                } else {
                    for (var e = 0u; k + e < p.input; e++) {
                        xv[e] = x[o + e];
                    }
                }
                acc[r] += dot(wv, xv);
            }
        }
    }
    for (var r = 0u; r < TR; r++) {
        if (row0 + r < p.rows) {
            y[(row0 + r) * p.output + col] = activate(acc[r] + bias[col]);
        }
    }
}

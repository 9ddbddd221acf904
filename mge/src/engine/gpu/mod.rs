//! The GPU backend: each operation of [`forward`](super::forward) as a WGSL compute shader
//! (`kernels/`), through wgpu: Vulkan, Metal or DX12 natively, WebGPU in the browser.
//!
//! - Weights are uploaded once per model. Matrix weights go up as int8 with one f32 scale
//!   per block of 32 values along a row (the bundle's q8 layout), and the shader
//!   dequantizes them: a quarter of the f32 bytes. For a q8 bundle these are exactly the
//!   weights the CPU backend multiplies. Rows whose length is not a multiple of 32 (the
//!   table heads') go up as f32.
//! - Word embeddings stay in host memory: a sentence's rows are gathered there and
//!   uploaded (a few kilobytes instead of the whole vocabulary's 45 MB).
//! - A forward pass records every dispatch into one command encoder, a batch of windows
//!   into the same one ([`GpuEngine::forward_many`]); [`Gpu::read`] submits it once and
//!   reads all the tables back through one mapped buffer.
//! - Errors never panic: validation and shader errors and a lost device are caught and
//!   returned as [`Error::Gpu`], so a caller can fall back to the CPU.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};

use wgpu::util::DeviceExt;

use super::forward::{Activation, Backend, GateLayout, GateOutput, LinearParts, Model, NormParts};
use super::Tables;
use crate::bundle::{quantize_blocks, Q8_BLOCK};
use crate::error::{Error, Result};
use crate::model::MgeModel;

/// Rows of a workgroup's tile in `linear.wgsl`.
const TILE_ROWS: usize = 8;
/// Widest attention head `attention.wgsl` keeps a context row for.
pub const MAX_HEAD_DIM: usize = 128;
/// Most labels of a table head `table.wgsl` keeps sums for.
pub const MAX_LABELS: usize = 32;

struct Pipelines {
    linear: wgpu::ComputePipeline,
    norm: wgpu::ComputePipeline,
    attention: wgpu::ComputePipeline,
    gates: wgpu::ComputePipeline,
    table: wgpu::ComputePipeline,
}

/// A GPU device with the model's kernels compiled.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipelines: Pipelines,
    /// The first error the device reported (validation, out of memory, lost), if any.
    failure: Arc<Mutex<Option<String>>>,
    adapter: String,
    /// A 4-byte buffer bound where a kernel's optional input is absent.
    empty: wgpu::Buffer,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("adapter", &self.adapter)
            .finish()
    }
}

/// A row-major `f32` matrix in GPU memory.
pub struct Tensor {
    buf: wgpu::Buffer,
    len: usize,
}

/// One forward pass being recorded.
pub struct Recording {
    encoder: wgpu::CommandEncoder,
    dispatches: usize,
}

/// A dense layer: int8 weights (four to a `u32`) and block scales, or f32 weights
/// (`block` 0), and the bias.
pub struct Linear {
    weights: wgpu::Buffer,
    scales: wgpu::Buffer,
    bias: wgpu::Buffer,
    input: usize,
    output: usize,
    block: usize,
}

pub struct Norm {
    gamma: wgpu::Buffer,
    beta: wgpu::Buffer,
    eps: f32,
    d: usize,
}

/// Word and position embeddings, kept in host memory.
pub struct Embeddings {
    word: Vec<f32>,
    position: Vec<f32>,
    d: usize,
}

/// A table head's norm (`gamma`, `beta`, then the tagger's bias, in one buffer) and tagger.
pub struct Tagger {
    norm: wgpu::Buffer,
    tag: wgpu::Buffer,
    hidden: usize,
    labels: usize,
    eps: f32,
}

fn bytes_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn bytes_u32(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A one-shot channel whose receiving end is a future: how a map callback reaches the
/// code that awaits it, natively (after `poll`) and in the browser (from its event loop).
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

struct Receiver<T>(Arc<Mutex<Slot<T>>>);

fn oneshot<T>() -> (impl FnOnce(T), Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
    }));
    let tx = slot.clone();
    let send = move |v: T| {
        if let Ok(mut s) = tx.lock() {
            s.value = Some(v);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }
    };
    (send, Receiver(slot))
}

impl<T> Future for Receiver<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<T> {
        let Ok(mut s) = self.0.lock() else {
            return Poll::Pending;
        };
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Gpu {
    /// Opens the first GPU adapter the platform offers (a high-performance one where there
    /// are several) and compiles the kernels. Fails, without panicking, where there is no
    /// adapter, the adapter lacks a needed limit, or a kernel does not compile.
    pub async fn new() -> Result<Self> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::all(),
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Gpu(format!("no GPU adapter: {e}")))?;
        let info = adapter.get_info();
        let have = adapter.limits();
        let needed = Self::limits();
        if have.max_storage_buffers_per_shader_stage < needed.max_storage_buffers_per_shader_stage
            || have.max_compute_workgroup_storage_size < needed.max_compute_workgroup_storage_size
        {
            return Err(Error::Gpu(format!(
                "adapter {} offers {} storage buffers per stage and {} bytes of workgroup \
                 memory; the kernels need {} and {}",
                info.name,
                have.max_storage_buffers_per_shader_stage,
                have.max_compute_workgroup_storage_size,
                needed.max_storage_buffers_per_shader_stage,
                needed.max_compute_workgroup_storage_size
            )));
        }
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("mge"),
                required_limits: needed,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Gpu(format!("cannot open {}: {e}", info.name)))?;
        // Browsers do not name their adapters to pages.
        let adapter = if info.name.is_empty() {
            format!("{:?} adapter", info.backend)
        } else {
            format!("{} ({:?})", info.name, info.backend)
        };
        Self::with_device(device, queue, adapter).await
    }

    /// [`new`](Self::new), waiting for it (not in the browser, whose GPU answers
    /// asynchronously).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking() -> Result<Self> {
        pollster::block_on(Self::new())
    }

    /// The limits the kernels need: WebGPU's baseline, which every adapter offers.
    fn limits() -> wgpu::Limits {
        wgpu::Limits {
            max_storage_buffers_per_shader_stage: 8,
            max_compute_workgroup_storage_size: 16384,
            ..wgpu::Limits::downlevel_defaults()
        }
    }

    async fn with_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        adapter: String,
    ) -> Result<Self> {
        let failure: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let record = |slot: &Arc<Mutex<Option<String>>>| {
            let slot = slot.clone();
            move |message: String| {
                if let Ok(mut s) = slot.lock() {
                    s.get_or_insert(message);
                }
            }
        };
        let on_error = record(&failure);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| on_error(e.to_string())));
        let on_lost = record(&failure);
        device.set_device_lost_callback(move |reason, message| {
            on_lost(format!("device lost ({reason:?}): {message}"))
        });
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipeline = |name: &str, source: &str| {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let pipelines = Pipelines {
            linear: pipeline("linear", include_str!("kernels/linear.wgsl")),
            norm: pipeline("norm", include_str!("kernels/norm.wgsl")),
            attention: pipeline("attention", include_str!("kernels/attention.wgsl")),
            gates: pipeline("gates", include_str!("kernels/gates.wgsl")),
            table: pipeline("table", include_str!("kernels/table.wgsl")),
        };
        if let Some(e) = scope.pop().await {
            return Err(Error::Gpu(format!("the kernels do not compile: {e}")));
        }
        let empty = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("empty"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let gpu = Self {
            device,
            queue,
            pipelines,
            failure,
            adapter,
            empty,
        };
        gpu.check()?;
        Ok(gpu)
    }

    /// The adapter's name and API, as `llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan)`.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// The first error the device has reported, as an error.
    pub fn check(&self) -> Result<()> {
        match self.failure.lock() {
            Ok(f) => match f.as_ref() {
                Some(message) => Err(Error::Gpu(message.clone())),
                None => Ok(()),
            },
            Err(_) => Err(Error::Gpu("the error record was poisoned".into())),
        }
    }

    /// Simulates the loss of the device (as a driver reset would), for tests of fallbacks.
    pub fn lose(&self) {
        self.device.destroy();
    }

    /// Starts recording a forward pass.
    pub fn record(&self) -> Recording {
        Recording {
            encoder: self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None }),
            dispatches: 0,
        }
    }

    fn upload(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
        // Storage bindings cannot be empty.
        let padded;
        let contents = if bytes.is_empty() {
            padded = [0u8; 4];
            &padded[..]
        } else {
            bytes
        };
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            })
    }

    fn tensor(&self, len: usize) -> Tensor {
        let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: (len.max(1) * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Tensor { buf, len }
    }

    /// A tensor with the given values (for tests and the embeddings).
    pub fn tensor_from(&self, values: &[f32]) -> Tensor {
        Tensor {
            buf: self.upload("values", &bytes_f32(values)),
            len: values.len(),
        }
    }

    fn dispatch(
        &self,
        cx: &mut Recording,
        pipeline: &wgpu::ComputePipeline,
        params: &[u32],
        buffers: &[&wgpu::Buffer],
        groups: (usize, usize),
    ) -> Result<()> {
        let limit = self.device.limits().max_compute_workgroups_per_dimension as usize;
        if groups.0 > limit || groups.1 > limit {
            return Err(Error::Gpu(format!(
                "{groups:?} workgroups exceed the device's {limit} per dimension"
            )));
        }
        if groups.0 == 0 || groups.1 == 0 {
            return Ok(());
        }
        let uniform = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: None,
                contents: &bytes_u32(params),
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        for (i, b) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: b.as_entire_binding(),
            });
        }
        let group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let mut pass = cx
            .encoder
            .begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &group, &[]);
        pass.dispatch_workgroups(groups.0 as u32, groups.1 as u32, 1);
        cx.dispatches += 1;
        Ok(())
    }

    /// Submits a recorded pass and reads the given tensors back, all through one buffer.
    pub async fn read(&self, cx: Recording, tensors: &[&Tensor]) -> Result<Vec<Vec<f32>>> {
        self.check()?;
        let total: usize = tensors.iter().map(|t| t.len).sum();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read back"),
            size: (total.max(1) * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = cx.encoder;
        let mut at = 0u64;
        for t in tensors {
            let size = (t.len * 4) as u64;
            if size > 0 {
                encoder.copy_buffer_to_buffer(&t.buf, 0, &staging, at, size);
            }
            at += size;
        }
        self.queue.submit([encoder.finish()]);
        let (send, received) = oneshot();
        staging.map_async(wgpu::MapMode::Read, .., send);
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU: {e}")))?;
        received
            .await
            .map_err(|e| Error::Gpu(format!("reading results back: {e}")))?;
        self.check()?;
        let out = {
            let view = staging
                .get_mapped_range(..)
                .map_err(|e| Error::Gpu(format!("reading results back: {e}")))?;
            let mut at = 0;
            tensors
                .iter()
                .map(|t| {
                    let bytes = &view[at * 4..(at + t.len) * 4];
                    at += t.len;
                    bytes
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect()
                })
                .collect()
        };
        staging.unmap();
        Ok(out)
    }

    /// [`read`](Self::read), waiting for it (natively).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_blocking(&self, cx: Recording, tensors: &[&Tensor]) -> Result<Vec<Vec<f32>>> {
        pollster::block_on(self.read(cx, tensors))
    }
}

impl Backend for Gpu {
    type Tensor = Tensor;
    type Context = Recording;
    type Linear = Linear;
    type Norm = Norm;
    type Embeddings = Embeddings;
    type Tagger = Tagger;

    fn linear(&self, p: LinearParts, _: Option<&NormParts>) -> Result<Linear> {
        let (input, output) = (p.input, p.output);
        if p.weight.len() != input * output {
            return Err(Error::Config(format!(
                "a {output} x {input} layer has {} weights",
                p.weight.len()
            )));
        }
        // Rows of whole blocks of 32 go up as q8. Other rows (the table heads' halves of a
        // bundle row of 1,200, whose one scale covers both halves) go up as f32: quantizing
        // them again with scales of their own would change weights the CPU multiplies as
        // stored.
        let padded = input.div_ceil(Q8_BLOCK) * Q8_BLOCK;
        // Laid out input-major (word `k` of every column, then word `k + 1`), so that the
        // invocations of a workgroup, one column each, read neighbouring words together.
        let (packed, scales, block) = if input.is_multiple_of(Q8_BLOCK) {
            let (q, scales) = quantize_blocks(&p.weight, Q8_BLOCK);
            let words = padded / 4;
            let mut packed = vec![0u32; output * words];
            for (col, row) in q.chunks(input.max(1)).enumerate() {
                for (k, &v) in row.iter().enumerate() {
                    packed[(k / 4) * output + col] |= u32::from(v as u8) << (8 * (k % 4));
                }
            }
            let blocks = input / Q8_BLOCK;
            let mut by_block = vec![0f32; scales.len()];
            for (col, row) in scales.chunks(blocks.max(1)).enumerate() {
                for (b, &v) in row.iter().enumerate() {
                    by_block[b * output + col] = v;
                }
            }
            (packed, by_block, Q8_BLOCK)
        } else {
            let mut packed = vec![0u32; output * padded];
            for (col, row) in p.weight.chunks(input.max(1)).enumerate() {
                for (k, v) in row.iter().enumerate() {
                    packed[k * output + col] = v.to_bits();
                }
            }
            (packed, vec![1.0], 0)
        };
        let bias = p.bias.unwrap_or_else(|| vec![0.0; output]);
        Ok(Linear {
            weights: self.upload("weights", &bytes_u32(&packed)),
            scales: self.upload("scales", &bytes_f32(&scales)),
            bias: self.upload("bias", &bytes_f32(&bias)),
            input,
            output,
            block,
        })
    }

    fn norm(&self, p: &NormParts) -> Result<Norm> {
        Ok(Norm {
            gamma: self.upload("gamma", &bytes_f32(&p.gamma)),
            beta: self.upload("beta", &bytes_f32(&p.beta)),
            eps: p.eps,
            d: p.gamma.len(),
        })
    }

    fn embeddings(&self, word: Vec<f32>, position: Vec<f32>, d: usize) -> Result<Embeddings> {
        Ok(Embeddings { word, position, d })
    }

    fn tagger(&self, norm: &NormParts, tag: Vec<f32>, bias: Vec<f32>) -> Result<Tagger> {
        let hidden = norm.gamma.len();
        if bias.len() > MAX_LABELS {
            return Err(Error::Gpu(format!(
                "a table head of {} labels has more than the kernel's {MAX_LABELS}",
                bias.len()
            )));
        }
        let mut packed = norm.gamma.clone();
        packed.extend_from_slice(&norm.beta);
        packed.extend_from_slice(&bias);
        Ok(Tagger {
            norm: self.upload("head norm", &bytes_f32(&packed)),
            tag: self.upload("tagger", &bytes_f32(&tag)),
            hidden,
            labels: bias.len(),
            eps: norm.eps,
        })
    }

    fn embed(
        &self,
        cx: &mut Recording,
        e: &Embeddings,
        norm: &Norm,
        ids: &[u32],
    ) -> Result<Tensor> {
        let d = e.d;
        let mut rows = vec![0f32; ids.len() * d];
        for (pos, (&id, row)) in ids.iter().zip(rows.chunks_exact_mut(d)).enumerate() {
            let id = id as usize;
            let (Some(w), Some(p)) = (
                e.word.get(id * d..(id + 1) * d),
                e.position.get(pos * d..(pos + 1) * d),
            ) else {
                return Err(Error::Config(format!(
                    "token {id} at {pos} has no embedding"
                )));
            };
            for ((o, a), b) in row.iter_mut().zip(w).zip(p) {
                *o = a + b;
            }
        }
        let x = self.tensor_from(&rows);
        let params = [ids.len() as u32, norm.d as u32, 0, norm.eps.to_bits()];
        self.dispatch(
            cx,
            &self.pipelines.norm,
            &params,
            &[&x.buf, &self.empty, &norm.gamma, &norm.beta],
            (ids.len().div_ceil(64), 1),
        )?;
        Ok(x)
    }

    fn matmul(
        &self,
        cx: &mut Recording,
        l: &Linear,
        x: &Tensor,
        rows: usize,
        act: Option<Activation>,
    ) -> Result<Tensor> {
        if x.len < rows * l.input {
            return Err(Error::Config(format!(
                "{rows} rows of {} inputs from a tensor of {}",
                l.input, x.len
            )));
        }
        let y = self.tensor(rows * l.output);
        let act = match act {
            None => 0,
            Some(Activation::GeluErf) => 1,
            Some(Activation::GeluTanh) => 2,
            Some(Activation::Relu) => 3,
        };
        let params = [
            rows as u32,
            l.input as u32,
            l.output as u32,
            l.block as u32,
            act,
            0,
            0,
            0,
        ];
        self.dispatch(
            cx,
            &self.pipelines.linear,
            &params,
            &[&x.buf, &l.weights, &l.scales, &l.bias, &y.buf],
            (l.output.div_ceil(64), rows.div_ceil(TILE_ROWS)),
        )?;
        Ok(y)
    }

    fn attention(
        &self,
        cx: &mut Recording,
        qkv: &Tensor,
        t: usize,
        heads: usize,
        d: usize,
    ) -> Result<Tensor> {
        let dh = d / heads.max(1);
        if dh > MAX_HEAD_DIM {
            return Err(Error::Gpu(format!(
                "attention heads of {dh} values are wider than the kernel's {MAX_HEAD_DIM}"
            )));
        }
        let ctx = self.tensor(t * d);
        let params = [
            t as u32,
            heads as u32,
            d as u32,
            dh as u32,
            (1.0 / (dh as f32).sqrt()).to_bits(),
            0,
            0,
            0,
        ];
        self.dispatch(
            cx,
            &self.pipelines.attention,
            &params,
            &[&qkv.buf, &ctx.buf],
            (t.div_ceil(64), heads),
        )?;
        Ok(ctx)
    }

    fn add_norm(
        &self,
        cx: &mut Recording,
        x: Tensor,
        residual: &Tensor,
        norm: &Norm,
    ) -> Result<Tensor> {
        let rows = x.len / norm.d.max(1);
        let params = [rows as u32, norm.d as u32, 1, norm.eps.to_bits()];
        self.dispatch(
            cx,
            &self.pipelines.norm,
            &params,
            &[&x.buf, &residual.buf, &norm.gamma, &norm.beta],
            (rows.div_ceil(64), 1),
        )?;
        Ok(x)
    }

    fn inner_rows(&self, cx: &mut Recording, x: &Tensor, t: usize, d: usize) -> Result<Tensor> {
        let n = t.saturating_sub(2);
        let out = self.tensor(n * d);
        if n > 0 {
            cx.encoder.copy_buffer_to_buffer(
                &x.buf,
                (d * 4) as u64,
                &out.buf,
                0,
                (n * d * 4) as u64,
            );
        }
        Ok(out)
    }

    fn gates(
        &self,
        cx: &mut Recording,
        z: &Tensor,
        n: usize,
        l: &GateLayout,
        means: bool,
    ) -> Result<GateOutput<Tensor>> {
        const NONE: u32 = u32::MAX;
        let ner = self.tensor(n * l.ner_width());
        let re = self.tensor(n * l.re_width());
        let m = self.tensor(if means { 4 * n } else { 1 });
        let g = l.gates().map(|g| g.map_or(NONE, |i| i as u32));
        let params = [
            n as u32,
            l.hidden as u32,
            l.width as u32,
            l.ner_width() as u32,
            l.re_width() as u32,
            u32::from(means),
            l.cand_e as u32,
            l.cand_r as u32,
            g[0],
            g[1],
            g[2],
            g[3],
        ];
        self.dispatch(
            cx,
            &self.pipelines.gates,
            &params,
            &[&z.buf, &ner.buf, &re.buf, &m.buf],
            (n.div_ceil(64), 1),
        )?;
        Ok(GateOutput {
            ner,
            re,
            means: means.then_some(m),
        })
    }

    fn table(
        &self,
        cx: &mut Recording,
        w: &Tagger,
        a: &Tensor,
        b: &Tensor,
        n: usize,
        upper: bool,
    ) -> Result<Tensor> {
        let out = self.tensor(n * n * w.labels);
        let params = [
            n as u32,
            w.hidden as u32,
            w.labels as u32,
            u32::from(upper),
            w.eps.to_bits(),
            0,
            0,
            0,
        ];
        self.dispatch(
            cx,
            &self.pipelines.table,
            &params,
            &[&a.buf, &b.buf, &w.norm, &w.tag, &out.buf],
            (n.div_ceil(64), n),
        )?;
        Ok(out)
    }
}

/// The model packed for a GPU.
pub struct GpuEngine {
    model: Model<Gpu>,
    gpu: Gpu,
}

impl std::fmt::Debug for GpuEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuEngine").field("gpu", &self.gpu).finish()
    }
}

impl GpuEngine {
    /// Uploads a loaded model's weights to `gpu`.
    pub fn new(gpu: Gpu, model: &MgeModel) -> Result<Self> {
        let model = Model::build(model, &gpu)?;
        gpu.check()?;
        Ok(Self { model, gpu })
    }

    /// Builds the model of a bundle's bytes on `gpu`.
    pub fn from_bundle(bytes: &[u8], gpu: Gpu) -> Result<Self> {
        let (info, tensors) = crate::bundle::read_bundle(bytes, &candle_core::Device::Cpu)
            .map_err(|e| Error::Config(e.to_string()))?;
        let model = MgeModel::load(&tensors, &info.config)?;
        drop(tensors);
        Self::new(gpu, &model)
    }

    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    pub fn max_positions(&self) -> usize {
        self.model.max_positions()
    }

    /// Runs `[CLS] … [SEP]` ids through the encoder, the gates and both heads: one submit,
    /// one read back.
    pub async fn forward(&self, ids: &[u32], want_gates: bool) -> Result<Tables> {
        self.forward_many(&[ids], want_gates)
            .await?
            .pop()
            .ok_or_else(|| Error::Gpu("no tables read back".into()))
    }

    /// [`forward`](Self::forward) for a batch of sequences: every pass recorded into one
    /// command buffer, one submit, and all the tables read back through one buffer.
    pub async fn forward_many(&self, batch: &[&[u32]], want_gates: bool) -> Result<Vec<Tables>> {
        let mut cx = self.gpu.record();
        let mut outs = Vec::with_capacity(batch.len());
        for ids in batch {
            let x = self.model.encode(&self.gpu, &mut cx, ids)?;
            outs.push(
                self.model
                    .heads(&self.gpu, &mut cx, &x, ids.len(), want_gates)?,
            );
        }
        let present: Vec<&Tensor> = outs
            .iter()
            .flat_map(|o| [&o.ner, &o.re, &o.means].into_iter().flatten())
            .collect();
        let mut values = self.gpu.read(cx, &present).await?.into_iter();
        outs.into_iter()
            .map(|o| {
                o.into_tables(&self.model.gates, want_gates, |_| {
                    values
                        .next()
                        .ok_or_else(|| Error::Gpu("fewer tables read back than computed".into()))
                })
            })
            .collect()
    }

    /// [`forward_many`](Self::forward_many), waiting for it (natively).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn forward_many_blocking(&self, batch: &[&[u32]], want_gates: bool) -> Result<Vec<Tables>> {
        pollster::block_on(self.forward_many(batch, want_gates))
    }

    /// [`forward`](Self::forward), waiting for it (natively).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn forward_blocking(&self, ids: &[u32], want_gates: bool) -> Result<Tables> {
        pollster::block_on(self.forward(ids, want_gates))
    }

    /// How many dispatches a forward pass over `ids` records (for the benchmarks).
    pub fn dispatches(&self, ids: &[u32]) -> Result<usize> {
        let mut cx = self.gpu.record();
        let x = self.model.encode(&self.gpu, &mut cx, ids)?;
        self.model.heads(&self.gpu, &mut cx, &x, ids.len(), false)?;
        Ok(cx.dispatches)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

# Training throughput of arith-lab's GPT written the way a PyTorch user would write it (eager, float32), for
# `npm run bench -- --vs-pytorch`. Same model as src/models/gpt.ts with the bench's settings: pre-LayerNorm
# blocks, causal softmax attention (no positional encoding, as the bench's `nope`), GELU (tanh), tied
# embeddings, masked mean cross-entropy, global-norm clipping at 1 (the norm read back to the host, as our
# trainStep does), AdamW (beta 0.9/0.99, eps 1e-8, decay 0.1 on rank >= 2 parameters only), loss read back.
# Idiomatic PyTorch where ours is written for wasm: nn.Embedding lookups instead of one-hot products,
# F.cross_entropy instead of log-softmax times one-hot, torch.optim.AdamW.
#
#   /usr/bin/python3 bench/pytorch_bench.py --layers 2 --heads 4 --d-model 128 --d-ff 512 [--threads 2]
#       [--device cpu|cuda] [--steps 5] [--warmup 2]
# prints one JSON object: median ms/step over the timed steps (wall and process CPU time), tokens/s, every
# step's time, the losses.
import argparse, ctypes, ctypes.util, json, math, os, time

parser = argparse.ArgumentParser()
parser.add_argument('--layers', type=int, default=2)
parser.add_argument('--heads', type=int, default=4)
parser.add_argument('--d-model', type=int, default=128)
parser.add_argument('--d-ff', type=int, default=512)
parser.add_argument('--vocab', type=int, default=20)
parser.add_argument('--batch', type=int, default=64)
parser.add_argument('--seq', type=int, default=32)
parser.add_argument('--steps', type=int, default=5)
parser.add_argument('--warmup', type=int, default=2)
parser.add_argument('--threads', type=int, default=0, help='intra-op threads, also given to OpenBLAS (0: leave as is)')
parser.add_argument('--device', default='cpu')
args = parser.parse_args()

if args.threads > 0:
    # torch.set_num_threads does not reach OpenBLAS (Debian's torch calls BLAS for matmuls); the caller also
    # sets OPENBLAS_NUM_THREADS, this covers a direct invocation.
    os.environ.setdefault('OPENBLAS_NUM_THREADS', str(args.threads))
    os.environ.setdefault('OMP_NUM_THREADS', str(args.threads))
import torch
import torch.nn.functional as F

if args.threads > 0:
    torch.set_num_threads(args.threads)
    for name in ('openblas', 'openblas64', 'blas'):
        found = ctypes.util.find_library(name)
        if not found:
            continue
        try:
            setter = getattr(ctypes.CDLL(found), 'openblas_set_num_threads', None)
        except OSError:
            continue
        if setter:
            setter(args.threads)
            break

device = torch.device(args.device)
torch.manual_seed(0)
L, H, D, FF, V, B, T = args.layers, args.heads, args.d_model, args.d_ff, args.vocab, args.batch, args.seq
DH = D // H


def normal(*shape, std=0.02):
    return torch.nn.Parameter(torch.randn(*shape, device=device) * std)


def zeros(*shape):
    return torch.nn.Parameter(torch.zeros(*shape, device=device))


def ones(*shape):
    return torch.nn.Parameter(torch.ones(*shape, device=device))


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        residual_std = 0.02 / math.sqrt(2 * L)
        self.ln_1_weight, self.ln_1_bias = ones(D), zeros(D)
        self.c_attn_weight, self.c_attn_bias = normal(D, 3 * D), zeros(3 * D)
        self.attn_proj_weight, self.attn_proj_bias = normal(D, D, std=residual_std), zeros(D)
        self.ln_2_weight, self.ln_2_bias = ones(D), zeros(D)
        self.c_fc_weight, self.c_fc_bias = normal(D, FF), zeros(FF)
        self.mlp_proj_weight, self.mlp_proj_bias = normal(FF, D, std=residual_std), zeros(D)

    def forward(self, x, mask):
        h = F.layer_norm(x, (D,), self.ln_1_weight, self.ln_1_bias, 1e-5)
        qkv = torch.addmm(self.c_attn_bias, h.reshape(-1, D), self.c_attn_weight).reshape(B, T, 3 * D)
        q, k, v = [t.reshape(B, T, H, DH).transpose(1, 2) for t in qkv.split(D, -1)]
        pattern = torch.softmax(q @ k.transpose(-1, -2) * (1 / math.sqrt(DH)) + mask, -1)
        y = (pattern @ v).transpose(1, 2).reshape(B * T, D)
        x = x + torch.addmm(self.attn_proj_bias, y, self.attn_proj_weight).reshape(B, T, D)
        h = F.layer_norm(x, (D,), self.ln_2_weight, self.ln_2_bias, 1e-5)
        hidden = F.gelu(torch.addmm(self.c_fc_bias, h.reshape(-1, D), self.c_fc_weight), approximate='tanh')
        return x + torch.addmm(self.mlp_proj_bias, hidden, self.mlp_proj_weight).reshape(B, T, D)


class Gpt(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = normal(V, D)
        self.blocks = torch.nn.ModuleList([Block() for _ in range(L)])
        self.ln_f_weight, self.ln_f_bias = ones(D), zeros(D)
        self.register_buffer('mask', torch.triu(torch.full((T, T), -1e9, device=device), 1))

    def forward(self, ids):
        x = F.embedding(ids, self.wte)
        for block in self.blocks:
            x = block(x, self.mask)
        x = F.layer_norm(x, (D,), self.ln_f_weight, self.ln_f_bias, 1e-5)
        return x @ self.wte.t()


model = Gpt()
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}], lr=1e-3, betas=(0.9, 0.99), eps=1e-8
)
generator = torch.Generator().manual_seed(0)
inputs = torch.randint(3, V, (B, T), generator=generator).to(device)
targets = torch.randint(3, V, (B, T), generator=generator).to(device)
loss_mask = torch.ones(B, T, device=device)


def sync():
    if device.type == 'cuda':
        torch.cuda.synchronize()


def train_step():
    logits = model(inputs)
    nll = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction='none')
    loss = (nll * loss_mask.reshape(-1)).sum() / loss_mask.sum().clamp(min=1)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    norm = torch.sqrt(sum((g * g).sum() for g in grads)).item()
    if norm > 1.0:
        for g in grads:
            g.mul_(1.0 / (norm + 1e-6))
    optimizer.step()
    return loss.item()


times, cpu_times, losses = [], [], []
for step in range(args.warmup + args.steps):
    sync()
    started, cpu_started = time.perf_counter(), time.process_time()
    losses.append(train_step())
    sync()
    if step >= args.warmup:
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu_started) * 1000)
ms = sorted(times)[len(times) // 2]  # the upper median, as bench.ts takes it
print(json.dumps({
    'torch': torch.__version__,
    'device': str(device) if device.type == 'cpu' else torch.cuda.get_device_name(device),
    'threads': torch.get_num_threads(),
    'parameters': sum(p.numel() for p in model.parameters()),
    'median_ms_per_step': round(ms, 2),
    'tokens_per_s': round(B * T / (ms / 1000)),
    # CPU time of the whole process (all threads): on a shared machine it counts this process's work only.
    'median_cpu_ms_per_step': round(sorted(cpu_times)[len(cpu_times) // 2], 2),
    'ms_per_step': [round(t, 2) for t in times],
    'losses': [round(l, 5) for l in losses],
}))

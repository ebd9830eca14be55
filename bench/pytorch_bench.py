# Training throughput of arith-lab's GPT written the way a PyTorch user would write it (eager, float32), for
# `npm run bench -- --vs-pytorch`. Same model as src/models/gpt.ts with the bench's settings: pre-LayerNorm
# blocks, causal softmax attention, GELU (tanh), tied embeddings (or an output matrix with --untied), masked
# mean cross-entropy, global-norm clipping (the norm read back to the host, as our trainStep does), AdamW (decay
# on rank >= 2 parameters only), loss read back. Positional encodings: nope, ape (learned table added),
# sinusoidal (sqrt(d)-scaled tokens plus the fixed table), alibi (Press et al.'s head slopes), rope (the
# "two halves" rotation of --rope-fraction of each head), t5 (a learned bias per log-spaced distance bucket and
# head, shared by the layers), fire (an MLP of the log-transformed distance, shared), abacus and coupled (a
# learned table of the batch's position ids added to the tokens; --no-role-table drops it), and combinations
# joined by '+' (abacus+fire, coupled+t5). Batches may carry position ids (role ids, randomized positions): with
# a role-reading scheme (abacus, coupled) the attention side reads 0..T-1 unless --attention-ids roles, else the
# ids are the sequence's positions. src/models/positional/ has the lab's, test/reference/gpt_reference.py the
# same math in float64, and these follow them. Idiomatic PyTorch where ours is written for wasm: nn.Embedding
# lookups instead of one-hot products, F.cross_entropy instead of log-softmax times one-hot, torch.optim.AdamW,
# the tables of positions 0..T-1 computed once per sequence length.
#
#   /usr/bin/python3 bench/pytorch_bench.py --layers 2 --heads 4 --d-model 128 --d-ff 512 [--threads 2]
#       [--device cpu|cuda] [--steps 5] [--warmup 2] [--pos nope|ape|sinusoidal|alibi|rope|t5|fire|abacus|coupled
#       or a+b] [--batches FILE]
# --batches reads the steps' batches (a JSON list of {batch, seq, inputs, targets, loss_mask, positions?}, flat
# row-major; bench.ts writes the batches it trained on), one per step, warm-up first; without it every step
# trains on one batch of random tokens of --batch x --seq. Prints one JSON object: median ms/step over the timed
# steps (wall and process CPU time), tokens/s, every step's time, the losses.
# --lockstep (bench.ts --lockstep) takes its steps one at a time instead: after a first line {"ready": ...} with
# the model's facts, each batch line on stdin gets one answer line {"ms", "cpu_ms", "loss"}, until stdin closes;
# the caller alternates these steps with its own, so both run through the same slow and fast seconds.
import argparse, ctypes, ctypes.util, json, math, os, sys, time

parser = argparse.ArgumentParser()
parser.add_argument('--layers', type=int, default=2)
parser.add_argument('--heads', type=int, default=4)
parser.add_argument('--d-model', type=int, default=128)
parser.add_argument('--d-ff', type=int, default=512)
parser.add_argument('--vocab', type=int, default=20)
parser.add_argument('--batch', type=int, default=64)
parser.add_argument('--seq', type=int, default=32)
ENCODINGS = ['nope', 'ape', 'sinusoidal', 'alibi', 'rope', 't5', 'fire', 'abacus', 'coupled']
parser.add_argument('--pos', default='nope', help=f"one of {', '.join(ENCODINGS)}, or several joined by '+'")
parser.add_argument('--max-len', type=int, default=64, help="ape: the learned table's rows")
parser.add_argument('--rope-fraction', type=float, default=1.0)
parser.add_argument('--rope-base', type=float, default=10000.0)
parser.add_argument('--max-position', type=int, default=128, help="abacus, coupled: the table's rows")
parser.add_argument('--no-role-table', action='store_true', help='abacus, coupled: no table (model.role_table: false)')
parser.add_argument('--attention-ids', default='sequence', choices=['sequence', 'roles'])
parser.add_argument('--t5-buckets', type=int, default=32)
parser.add_argument('--t5-max-distance', type=int, default=128)
parser.add_argument('--t5-bidirectional', action='store_true')
parser.add_argument('--t5-scale', type=float, default=1.0)
parser.add_argument('--fire-mlp-width', type=int, default=32)
parser.add_argument('--fire-c', type=float, default=0.1)
parser.add_argument('--fire-l', type=float, default=512.0)
parser.add_argument('--untied', action='store_true', help='an output matrix of its own instead of the token embedding')
parser.add_argument('--lr', type=float, default=1e-3)
parser.add_argument('--grad-clip', type=float, default=1.0)
parser.add_argument('--beta1', type=float, default=0.9)
parser.add_argument('--beta2', type=float, default=0.99)
parser.add_argument('--weight-decay', type=float, default=0.1)
parser.add_argument('--batches', default=None, help='a JSON file of the batches to train on, one per step')
parser.add_argument('--steps', type=int, default=5)
parser.add_argument('--warmup', type=int, default=2)
parser.add_argument('--threads', type=int, default=0, help='intra-op threads, also given to OpenBLAS (0: leave as is)')
parser.add_argument('--device', default='cpu')
parser.add_argument(
    '--lockstep',
    action='store_true',
    help='read one batch (a JSON line) from stdin per step, train on it, answer a JSON line of its times; stop at EOF',
)
args = parser.parse_args()
POS_LIST = args.pos.split('+')
for name in POS_LIST:
    if name not in ENCODINGS:
        parser.error(f"--pos {args.pos}: unknown encoding {name!r}; known: {', '.join(ENCODINGS)}")

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

# The same float32 matmul precision as the torch engine's (ARITH_MATMUL_PRECISION=high: TF32 on a GPU).
torch.set_float32_matmul_precision(os.environ.get('ARITH_MATMUL_PRECISION') or 'highest')

device = torch.device(args.device)
torch.manual_seed(0)
L, H, D, FF, V = args.layers, args.heads, args.d_model, args.d_ff, args.vocab
DH = D // H
ROLE = next((name for name in POS_LIST if name in ('abacus', 'coupled')), None)
ROTARY = 2 * math.floor(DH * args.rope_fraction / 2)


def normal(*shape, std=0.02):
    return torch.nn.Parameter(torch.randn(*shape, device=device) * std)


def zeros(*shape):
    return torch.nn.Parameter(torch.zeros(*shape, device=device))


def ones(*shape):
    return torch.nn.Parameter(torch.ones(*shape, device=device))


def alibi_slopes(heads):
    def power_of_two(n):
        return [2 ** (-8 * (h + 1) / n) for h in range(n)]

    if math.log2(heads).is_integer():
        return power_of_two(heads)
    lower = 2 ** math.floor(math.log2(heads))
    return power_of_two(lower) + power_of_two(2 * lower)[0::2][: heads - lower]


_tables = {}


def tables(T):
    """Per sequence length: the causal mask, the fixed encodings' tables of positions 0..T-1, and the fixed
    attention bias (the mask plus ALiBi's)."""
    if T not in _tables:
        position = torch.arange(T, device=device, dtype=torch.float32)
        causal = torch.triu(torch.full((T, T), -1e9, device=device), 1)
        entry = {'causal': causal, **position_tables(position[None, :])}
        entry['fixed_bias'] = causal + entry['alibi'] if 'alibi' in entry else causal
        _tables[T] = entry
    return _tables[T]


def position_tables(ids):
    """What the fixed encodings make of position ids [B or 1, T]: ALiBi's bias, the sinusoid, RoPE's angles."""
    entry = {}
    ids = ids.to(torch.float32)
    if 'alibi' in POS_LIST:
        distance = (ids[:, :, None] - ids[:, None, :]).clamp(min=0)
        slopes = torch.tensor(alibi_slopes(H), device=device).reshape(1, H, 1, 1)
        entry['alibi'] = -slopes * distance[:, None]  # [B, H, T, T]
    if 'sinusoidal' in POS_LIST:
        pairs = (D + 1) // 2
        angles = ids[..., None] / torch.pow(10000.0, torch.arange(pairs, device=device) * 2 / D)
        entry['table'] = torch.stack([angles.sin(), angles.cos()], -1).reshape(*ids.shape, 2 * pairs)[..., :D]
    if 'rope' in POS_LIST and ROTARY > 0:
        half = ROTARY // 2
        inverse = torch.pow(args.rope_base, -2 * torch.arange(half, device=device) / ROTARY)
        angles = ids[:, None, :, None] * inverse  # [B, 1, T, half]
        entry['cos'], entry['sin'] = angles.cos(), angles.sin()
    return entry


def t5_buckets(ids):
    """HF T5's _relative_position_bucket of key - query for ids [B or 1, T]: [B, T, T] bucket numbers."""
    relative = ids[:, None, :] - ids[:, :, None]
    buckets = args.t5_buckets
    if args.t5_bidirectional:
        buckets //= 2
        offset = (relative > 0).to(torch.long) * buckets
        n = relative.abs()
    else:
        offset = torch.zeros_like(relative)
        n = (-relative).clamp(min=0)
    exact = buckets // 2
    scaled = torch.log(n.float().clamp(min=1) / exact) / math.log(args.t5_max_distance / exact) * (buckets - exact)
    large = (exact + scaled.to(torch.long)).clamp(max=buckets - 1)
    return offset + torch.where(n < exact, n, large)


def fire_bias(ids, fire):
    """FIRE (Li et al. 2023, as McLeish et al.'s code): [B, H, T, T] from position ids [B or 1, T]."""
    positions = ids.to(torch.float32)
    c = fire['c'][0]
    distance = torch.log(torch.abs(c * (positions[:, :, None] - positions[:, None, :])) + 1)
    threshold = torch.abs(fire['L_multiplier'][0] * args.fire_l)
    normalizer = torch.log(torch.abs(c * torch.maximum(positions, threshold)) + 1)[:, :, None]
    x = (distance / (normalizer + 1e-6))[..., None]
    hidden = torch.relu(x @ fire['fc_in_weight'] + fire['fc_in_bias'])
    return (hidden @ fire['fc_out_weight'] + fire['fc_out_bias']).permute(0, 3, 1, 2)


def rotate(x, table):
    half = ROTARY // 2
    first, second, rest = x[..., :half], x[..., half:ROTARY], x[..., ROTARY:]
    cos, sin = table['cos'], table['sin']
    return torch.cat([first * cos - second * sin, second * cos + first * sin, rest], -1)


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

    def forward(self, x, table, bias):
        B, T, _ = x.shape
        h = F.layer_norm(x, (D,), self.ln_1_weight, self.ln_1_bias, 1e-5)
        qkv = torch.addmm(self.c_attn_bias, h.reshape(-1, D), self.c_attn_weight).reshape(B, T, 3 * D)
        q, k, v = [t.reshape(B, T, H, DH).transpose(1, 2) for t in qkv.split(D, -1)]
        if 'rope' in POS_LIST and ROTARY > 0:
            q, k = rotate(q, table), rotate(k, table)
        pattern = torch.softmax(q @ k.transpose(-1, -2) * (1 / math.sqrt(DH)) + bias, -1)
        y = (pattern @ v).transpose(1, 2).reshape(B * T, D)
        x = x + torch.addmm(self.attn_proj_bias, y, self.attn_proj_weight).reshape(B, T, D)
        h = F.layer_norm(x, (D,), self.ln_2_weight, self.ln_2_bias, 1e-5)
        hidden = F.gelu(torch.addmm(self.c_fc_bias, h.reshape(-1, D), self.c_fc_weight), approximate='tanh')
        return x + torch.addmm(self.mlp_proj_bias, hidden, self.mlp_proj_weight).reshape(B, T, D)


class Gpt(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = normal(V, D)
        if 'ape' in POS_LIST:
            self.wpe = normal(args.max_len, D)
        if ROLE and not args.no_role_table:
            self.role_table = normal(args.max_position, D)
        if 't5' in POS_LIST:
            self.t5 = normal(args.t5_buckets, H)
        if 'fire' in POS_LIST:
            W = args.fire_mlp_width
            self.fire = torch.nn.ParameterDict({
                'c': torch.nn.Parameter(torch.full((1,), args.fire_c, device=device)),
                'L_multiplier': ones(1),
                'fc_in_weight': normal(1, W, std=1.0), 'fc_in_bias': normal(W, std=1.0),
                'fc_out_weight': normal(W, H, std=1 / math.sqrt(W)), 'fc_out_bias': normal(H, std=1 / math.sqrt(W)),
            })
        self.blocks = torch.nn.ModuleList([Block() for _ in range(L)])
        self.ln_f_weight, self.ln_f_bias = ones(D), zeros(D)
        self.lm_head = normal(D, V) if args.untied else None

    def forward(self, ids, positions=None):
        T = ids.shape[1]
        table = tables(T)
        # The ids the positional schemes read: the batch's own (randomized positions; role ids when the attention
        # reads roles), else 0..T-1 with its tables computed once per length.
        own = positions is not None and (ROLE is None or args.attention_ids == 'roles')
        idx = positions if own else torch.arange(T, device=device)[None, :]
        bias = table['fixed_bias']
        if own:
            table = {**table, **position_tables(idx)}
            bias = table['causal'] + table['alibi'] if 'alibi' in table else table['causal']
        x = F.embedding(ids, self.wte)
        if ROLE and not args.no_role_table:
            x = x + F.embedding(positions, self.role_table)
        if 'ape' in POS_LIST:
            x = x + F.embedding(idx, self.wpe)
        if 'sinusoidal' in POS_LIST:
            x = x * math.sqrt(D) + table['table']
        if 't5' in POS_LIST:
            buckets = t5_buckets(idx) if own else table.setdefault('t5_buckets', t5_buckets(idx))
            bias = bias + F.embedding(buckets, self.t5).permute(0, 3, 1, 2) * args.t5_scale
        if 'fire' in POS_LIST:
            bias = bias + fire_bias(idx, self.fire)
        for block in self.blocks:
            x = block(x, table, bias)
        x = F.layer_norm(x, (D,), self.ln_f_weight, self.ln_f_bias, 1e-5)
        return x @ (self.lm_head if self.lm_head is not None else self.wte.t())


model = Gpt()
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{'params': decay, 'weight_decay': args.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}],
    lr=args.lr,
    betas=(args.beta1, args.beta2),
    eps=1e-8,
)

steps_total = args.warmup + args.steps


def as_tensor(entry, key, dtype):
    return torch.tensor(entry[key], dtype=dtype).reshape(entry['batch'], entry['seq']).to(device)


def batch_of(entry):
    return (
        as_tensor(entry, 'inputs', torch.long),
        as_tensor(entry, 'targets', torch.long),
        as_tensor(entry, 'loss_mask', torch.float32),
        as_tensor(entry, 'positions', torch.long) if entry.get('positions') else None,
    )


if args.lockstep:
    batches = []
elif args.batches:
    with open(args.batches) as file:
        given = json.load(file)
    if len(given) < steps_total:
        raise SystemExit(f'{args.batches}: {len(given)} batches for {steps_total} steps')
    batches = [batch_of(b) for b in given[:steps_total]]
else:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randint(3, V, (args.batch, args.seq), generator=generator).to(device)
    targets = torch.randint(3, V, (args.batch, args.seq), generator=generator).to(device)
    batches = [(inputs, targets, torch.ones(args.batch, args.seq, device=device), None)] * steps_total


def sync():
    if device.type == 'cuda':
        torch.cuda.synchronize()


def train_step(inputs, targets, loss_mask, positions):
    logits = model(inputs, positions)
    nll = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction='none')
    loss = (nll * loss_mask.reshape(-1)).sum() / loss_mask.sum().clamp(min=1)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    norm = torch.sqrt(sum((g * g).sum() for g in grads)).item()
    if norm > args.grad_clip:
        for g in grads:
            g.mul_(args.grad_clip / (norm + 1e-6))
    optimizer.step()
    return loss.item()


def facts():
    return {
        'torch': torch.__version__,
        'device': str(device) if device.type == 'cpu' else torch.cuda.get_device_name(device),
        'threads': torch.get_num_threads(),
        'parameters': sum(p.numel() for p in model.parameters()),
    }


if args.lockstep:
    print(json.dumps({'ready': True, **facts()}), flush=True)
    for line in iter(sys.stdin.readline, ''):
        batch = batch_of(json.loads(line))  # outside the timed step, as bench.ts's upload is not
        sync()
        started, cpu_started = time.perf_counter(), time.process_time()
        loss = train_step(*batch)
        sync()
        ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000
        print(json.dumps({'ms': round(ms, 3), 'cpu_ms': round(cpu_ms, 3), 'loss': round(loss, 5)}), flush=True)
    raise SystemExit(0)

times, cpu_times, losses = [], [], []
for step in range(steps_total):
    sync()
    started, cpu_started = time.perf_counter(), time.process_time()
    losses.append(train_step(*batches[step]))
    sync()
    if step >= args.warmup:
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu_started) * 1000)
tokens = sum(b[0].numel() for b in batches[args.warmup :]) / args.steps
ms = sorted(times)[len(times) // 2]  # the upper median, as bench.ts takes it
print(json.dumps({
    **facts(),
    'median_ms_per_step': round(ms, 2),
    'tokens_per_s': round(tokens / (ms / 1000)),
    # CPU time of the whole process (all threads): on a shared machine it counts this process's work only.
    'median_cpu_ms_per_step': round(sorted(cpu_times)[len(cpu_times) // 2], 2),
    'ms_per_step': [round(t, 2) for t in times],
    'losses': [round(l, 5) for l in losses],
}))

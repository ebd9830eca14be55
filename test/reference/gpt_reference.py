# Independent float64 PyTorch implementation of arith-lab's GPT and AdamW step, used by test/reference.test.ts.
# Reads a JSON case (config, initial params, batches with optional position ids, learning rates, optionally
# `logits_ids` and `logits_positions`) from argv[1] and
# prints {"losses": [...], "logits": [...]}: the losses of training on those batches, and the logits of the
# initial weights on `logits_ids`. Written from the papers and the README's architecture description, not from
# the TS code: T5 buckets transcribe HF transformers' T5Attention._relative_position_bucket (float32 logs, as
# there), FIRE the FIRE class of github.com/mcleish7/arithmetic (cramming/architectures/embeddings.py).
import json, math, sys
import torch
torch.set_default_dtype(torch.float64)
d = json.load(open(sys.argv[1]))
c = d['config']; P = {k: torch.tensor(v['data'], dtype=torch.float64).reshape(v['shape']).requires_grad_() for k, v in d['params'].items()}
L, H, D = c['layers'], c['heads'], c['dModel']; dh = D // H
def ln(x, g, b): m = x.mean(-1, keepdim=True); v = ((x - m) ** 2).mean(-1, keepdim=True); return (x - m) / torch.sqrt(v + 1e-5) * g + b
def gelu(x): return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
def slopes(h): return [2 ** (-8 * (i + 1) / h) for i in range(h)]
def t5_bucket(rel, num_buckets, max_distance, bidirectional=False):  # rel = key - query
    ret = torch.zeros_like(rel)
    if bidirectional: num_buckets //= 2; ret = (rel > 0).to(torch.long) * num_buckets; n = torch.abs(rel)
    else: n = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2; is_small = n < max_exact
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return ret + torch.where(is_small, n, large)
# Position ids of each row, [B, T]: 0..T-1, or a sequence's own (coupling, Abacus, randomized positions). Every
# position-reading piece below reads them per row.
def t5_bias(idx):
    rel = idx[:, None, :] - idx[:, :, None]
    values = P['t5.relative_attention_bias.weight'][t5_bucket(rel, c['t5Buckets'], c['t5MaxDistance'], c.get('t5Bidirectional', False))]  # [B, T, T, H]
    return values.permute(0, 3, 1, 2) * c.get('t5Scale', 1)
def fire_bias(idx):
    positions = idx.double(); rel = positions[:, :, None] - positions[:, None, :]
    threshold = torch.abs(P['fire.L_multiplier'][0] * c['fireL']); normalizer = torch.max(positions, threshold)[:, :, None]
    rel = torch.log(torch.abs(P['fire.c'][0] * rel) + 1); normalizer = torch.log(torch.abs(P['fire.c'][0] * normalizer) + 1)
    x = (rel / (normalizer + 1e-6))[..., None]
    h = torch.relu(x @ P['fire.mlp.fc_in.weight'] + P['fire.mlp.fc_in.bias'])  # weights stored [in, out]
    return (h @ P['fire.mlp.fc_out.weight'] + P['fire.mlp.fc_out.bias']).permute(0, 3, 1, 2)
def rope_ids(x, ids):
    r = 2 * int(dh * c['ropeFraction'] / 2); half = r // 2
    inv = torch.tensor([c['ropeBase'] ** (-2 * i / r) for i in range(half)]); ang = ids.double()[:, None, :, None] * inv
    cos, sin = ang.cos(), ang.sin(); a, b = x[..., :half], x[..., half:r]
    return torch.cat([a * cos - b * sin, b * cos + a * sin, x[..., r:]], -1)
def sinusoid_ids(ids):
    i = torch.arange(0, D, 2).double(); ang = ids.double()[..., None] / 10000 ** (i / D)
    return torch.stack([ang.sin(), ang.cos()], -1).reshape(*ids.shape, D)
def alibi_ids(ids):
    dist = (ids[:, :, None] - ids[:, None, :]).clamp(min=0).double()
    return -torch.tensor(slopes(H))[None, :, None, None] * dist[:, None]
def forward(ids, positions=None):
    B, T = ids.shape
    x = P['wte.weight'][ids]
    pos = c['pos'] if isinstance(c['pos'], list) else [c['pos']]
    # With a scheme that reads token roles (coupled, abacus) the given ids are its own and every other scheme reads
    # 0..T-1 (McLeish et al. run FIRE on the sequence beside Abacus); otherwise they are randomized positions.
    role = next((name for name in pos if name in ('coupled', 'abacus')), None)
    sequence = torch.arange(T)[None].expand(B, T)
    # model.attention_ids 'roles': the attention side reads the role ids too (a relative bias between coupled ids).
    idx = positions if positions is not None and (role is None or c.get('attentionIds') == 'roles') else sequence
    if role and c.get('roleTable', True): x = x + P[role + '.weight'][positions]  # model.role_table: false drops it
    if 'ape' in pos: x = x + P['wpe.weight'][idx]
    if 'sinusoidal' in pos and positions is not None and role is None: x = x * math.sqrt(D) + sinusoid_ids(idx)
    elif 'sinusoidal' in pos:
        pe = torch.zeros(T, D)
        for p in range(T):
            for i in range(0, D, 2):
                a = p / 10000 ** (i / D); pe[p, i] = math.sin(a); pe[p, i + 1] = math.cos(a)
        x = x * math.sqrt(D) + pe
    mask = torch.triu(torch.ones(T, T), 1) * -1e9
    if 't5' in pos: mask = mask + t5_bias(idx)
    if 'fire' in pos: mask = mask + fire_bias(idx)
    if 'alibi' in pos: mask = mask + alibi_ids(idx)
    # Looped model: the layers run `recurrence` times from a zero state, the embeddings added before each pass.
    e = x; x = torch.zeros_like(e)
    for l in [l for _ in range(c.get('recurrence') or 1) for l in range(L)]:
        if l == 0: x = x + e
        p = f'blocks.{l}.'
        h = ln(x, P[p + 'ln_1.weight'], P[p + 'ln_1.bias'])
        qkv = h @ P[p + 'attn.c_attn.weight'] + P[p + 'attn.c_attn.bias']
        q, k, v = [t.reshape(B, T, H, dh).transpose(1, 2) for t in qkv.split(D, -1)]
        if 'rope' in pos: q, k = rope_ids(q, idx), rope_ids(k, idx)
        # Scalable-Softmax: the query at index t sees t + 1 keys; its logits are multiplied by ln(t + 1).
        if c.get('lengthScaledAttention'): q = q * torch.log(torch.arange(1, T + 1, dtype=q.dtype))[:, None]
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + mask, -1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + y @ P[p + 'attn.c_proj.weight'] + P[p + 'attn.c_proj.bias']
        h2 = ln(x, P[p + 'ln_2.weight'], P[p + 'ln_2.bias'])
        up = h2 @ P[p + 'mlp.c_fc.weight'] + P[p + 'mlp.c_fc.bias']
        kind = c.get('mlp', 'gelu')
        if isinstance(kind, list): kind = kind[l]  # one MLP kind per block
        if kind != 'gelu': gate = h2 @ P[p + 'mlp.c_gate.weight'] + P[p + 'mlp.c_gate.bias']
        # Gated MLPs (GLU variants): the gate through GELU (geglu), SiLU (swiglu) or nothing (bilinear), times up.
        hidden = {'gelu': lambda: gelu(up), 'geglu': lambda: gelu(gate) * up, 'swiglu': lambda: gate * torch.sigmoid(gate) * up,
                  'bilinear': lambda: gate * up}[kind]()
        x = x + hidden @ P[p + 'mlp.c_proj.weight'] + P[p + 'mlp.c_proj.bias']
    x = ln(x, P['ln_f.weight'], P['ln_f.bias'])
    return x @ (P['wte.weight'].T if c['tieEmbeddings'] else P['lm_head.weight'])
logits_positions = torch.tensor(d['logits_positions']) if d.get('logits_positions') else None
logits = forward(torch.tensor(d['logits_ids']), logits_positions).tolist() if 'logits_ids' in d else None
m = {k: torch.zeros_like(v) for k, v in P.items()}; vv = {k: torch.zeros_like(v) for k, v in P.items()}
out = []
for s, (b, lr) in enumerate(zip(d['batches'], d['lrs']), 1):
    ids = torch.tensor(b['inputs']).reshape(b['B'], b['T']); tg = torch.tensor(b['targets']).reshape(b['B'], b['T']); mk = torch.tensor(b['mask']).reshape(b['B'], b['T'])
    positions = torch.tensor(b['positions']).reshape(b['B'], b['T']) if b.get('positions') else None
    logp = torch.log_softmax(forward(ids, positions), -1); nll = -logp.gather(-1, tg[..., None])[..., 0]
    loss = (nll * mk).sum() / mk.sum(); out.append(loss.item())
    for t in P.values(): t.grad = None
    loss.backward()
    # global-norm clipping at 1.0, then AdamW (beta 0.9/0.99, eps 1e-8, decoupled decay 0.1 on matrices)
    norm = math.sqrt(sum((t.grad ** 2).sum().item() for t in P.values())); scale = 1.0 / (norm + 1e-6) if norm > 1.0 else 1.0
    with torch.no_grad():
        for k, t in P.items():
            g = t.grad * scale
            m[k] = 0.9 * m[k] + 0.1 * g; vv[k] = 0.99 * vv[k] + 0.01 * g * g
            upd = (m[k] / (1 - 0.9 ** s)) / ((vv[k] / (1 - 0.99 ** s)).sqrt() + 1e-8)
            if t.dim() >= 2: t.mul_(1 - lr * 0.1)
            t.sub_(lr * upd)
print(json.dumps({'losses': out, 'logits': logits}))

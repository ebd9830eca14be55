# Independent float64 PyTorch implementation of arith-lab's GPT and AdamW step, used by test/reference.test.ts.
# Reads a JSON case (config, initial params, batches, learning rates) from argv[1] and prints the losses, one per
# line, of training on those batches. Written from the README's architecture description, not from the TS code.
import json, math, sys
import torch
torch.set_default_dtype(torch.float64)
d = json.load(open(sys.argv[1]))
c = d['config']; P = {k: torch.tensor(v['data'], dtype=torch.float64).reshape(v['shape']).requires_grad_() for k, v in d['params'].items()}
L, H, D = c['layers'], c['heads'], c['dModel']; dh = D // H
def ln(x, g, b): m = x.mean(-1, keepdim=True); v = ((x - m) ** 2).mean(-1, keepdim=True); return (x - m) / torch.sqrt(v + 1e-5) * g + b
def gelu(x): return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
def rope(x, T):
    r = 2 * int(dh * c['ropeFraction'] / 2); half = r // 2
    inv = torch.tensor([c['ropeBase'] ** (-2 * i / r) for i in range(half)]); ang = torch.arange(T)[:, None] * inv[None]
    cos, sin = ang.cos(), ang.sin(); a, b = x[..., :half], x[..., half:r]
    return torch.cat([a * cos - b * sin, b * cos + a * sin, x[..., r:]], -1)
def slopes(h): return [2 ** (-8 * (i + 1) / h) for i in range(h)]
# Position ids of a sequence's own (coupling, Abacus, randomized positions), [B, T]: every position-reading piece
# below reads them per row instead of 0..T-1.
def rope_ids(x, ids):
    r = 2 * int(dh * c['ropeFraction'] / 2); half = r // 2
    inv = torch.tensor([c['ropeBase'] ** (-2 * i / r) for i in range(half)]); ang = ids.double()[:, None, :, None] * inv
    cos, sin = ang.cos(), ang.sin(); a, b = x[..., :half], x[..., half:r]
    return torch.cat([a * cos - b * sin, b * cos + a * sin, x[..., r:]], -1)
def sinusoid_ids(ids):
    i = torch.arange(0, D, 2).double(); ang = ids.double()[..., None] / 10000 ** (i / D)
    return torch.stack([ang.sin(), ang.cos()], -1).reshape(*ids.shape, D)
def embed_ids(x, ids):
    pos = c['pos']
    if pos in ('coupled', 'abacus'): return x + P[pos + '.weight'][ids]
    if pos == 'ape': return x + P['wpe.weight'][ids]
    if pos == 'sinusoidal': return x * math.sqrt(D) + sinusoid_ids(ids)
    return x
def alibi_ids(ids):
    dist = (ids[:, :, None] - ids[:, None, :]).clamp(min=0).double()
    return -torch.tensor(slopes(H))[None, :, None, None] * dist[:, None]
def forward(ids, positions=None):
    B, T = ids.shape
    x = P['wte.weight'][ids]
    pos = c['pos']
    if positions is not None: x = embed_ids(x, positions)
    elif pos == 'ape': x = x + P['wpe.weight'][:T]
    elif pos == 'sinusoidal':
        pe = torch.zeros(T, D)
        for p in range(T):
            for i in range(0, D, 2):
                a = p / 10000 ** (i / D); pe[p, i] = math.sin(a); pe[p, i + 1] = math.cos(a)
        x = x * math.sqrt(D) + pe
    mask = torch.triu(torch.ones(T, T), 1) * -1e9
    if pos == 'alibi' and positions is not None: mask = mask + alibi_ids(positions)
    elif pos == 'alibi':
        i = torch.arange(T); dist = (i[:, None] - i[None]).clamp(min=0).double()
        mask = mask + (-torch.tensor(slopes(H))[:, None, None] * dist)[None]
    for l in range(L):
        p = f'blocks.{l}.'
        h = ln(x, P[p + 'ln_1.weight'], P[p + 'ln_1.bias'])
        qkv = h @ P[p + 'attn.c_attn.weight'] + P[p + 'attn.c_attn.bias']
        q, k, v = [t.reshape(B, T, H, dh).transpose(1, 2) for t in qkv.split(D, -1)]
        if pos == 'rope': q, k = (rope_ids(q, positions), rope_ids(k, positions)) if positions is not None else (rope(q, T), rope(k, T))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + mask, -1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + y @ P[p + 'attn.c_proj.weight'] + P[p + 'attn.c_proj.bias']
        h2 = ln(x, P[p + 'ln_2.weight'], P[p + 'ln_2.bias'])
        x = x + gelu(h2 @ P[p + 'mlp.c_fc.weight'] + P[p + 'mlp.c_fc.bias']) @ P[p + 'mlp.c_proj.weight'] + P[p + 'mlp.c_proj.bias']
    x = ln(x, P['ln_f.weight'], P['ln_f.bias'])
    return x @ (P['wte.weight'].T if c['tieEmbeddings'] else P['lm_head.weight'])
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
print(json.dumps(out))

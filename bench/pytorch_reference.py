#!/usr/bin/env python3
"""PyTorch reference for `lora-repro bench compare`: the same benchmark models (d_model 256) and the same training step.

Models (as src/models/roberta.ts and src/models/gpt2.ts build them):
  bench-roberta  RoBERTa-style post-LN encoder + classification head (dense -> tanh -> out_proj on <s>),
                 exact erf GELU, -10000 added to padded keys, position ids counted from the padding id.
  bench-gpt2     GPT-2-style pre-LN decoder, gelu_new, causal mask, LM head tied to wte,
                 loss with label smoothing 0.1 (the reference NLG loss).
Both: 4 layers, d_model 256, 4 heads, FFN 1024, vocab 8000; dropout 0.1 everywhere (training mode).
Init: normal(0, 0.02), zero biases, LayerNorm ones/zeros, padding rows of RoBERTa's embeddings zero,
GPT-2's residual projections std 0.02/sqrt(2*layers); LoRA A ~ U(-1/sqrt(in), 1/sqrt(in)), B = 0.
Step: forward, loss, backward of the trainable parameters only, clip_grad_norm_(1.0), AdamW
(lr 1e-4, weight decay 0.01, eps 1e-6). LoRA: r=8, alpha=16 on W_q and W_v (+ the classification
head); ft: every parameter.

OpenBLAS is required: PyTorch on Debian's reference BLAS is ~20x slower and any ratio would be
meaningless, so the script refuses to run (exit 3) unless libopenblas is loaded and fast.
Prints one JSON object (the fields of `lora-repro bench train --json`).
Not part of CI; run by `lora-repro bench compare` or by hand:
  python3 bench/pytorch_reference.py --model bench-roberta --method lora --seq 128
On a GPU (bench/gpu-check.sh): --device cuda runs the same step there; the BLAS check is then moot,
each step ends with torch.cuda.synchronize() so the time covers the kernels, and peakGpuMiB is reported.
"""
import argparse
import json
import math
import os
import resource
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="bench-roberta", choices=["bench-roberta", "bench-gpt2"])
    p.add_argument("--method", default="lora", choices=["lora", "ft"])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="intra-op and BLAS threads (default 1)")
    p.add_argument("--allow-any-blas", action="store_true", help="skip the OpenBLAS check (numbers are then meaningless)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where the step runs (cuda: the first visible GPU)")
    return p.parse_args()


ARGS = parse_args()
# Thread counts must be fixed before torch (and its BLAS) load.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as err:  # one line, exit 3: the caller prints it and goes on without the reference
    print(f"PyTorch is not installed ({err}); on Debian: apt-get install python3-torch libopenblas0-pthread", file=sys.stderr)
    sys.exit(3)

CFG = dict(vocab=8000, hidden=256, layers=4, heads=4, inter=1024, std=0.02, eps=1e-5, dropout=0.1)


# ---------------------------------------------------------------------------------------------
# BLAS check
# ---------------------------------------------------------------------------------------------
def blas_check():
    """(BLAS libraries mapped into this process, GFLOP/s of a 512^3 sgemm per CPU second).
    PyTorch's Debian build links the generic libblas.so.3, which the alternatives system may point at
    OpenBLAS or at the reference BLAS: look at what is mapped. The speed is measured in CPU time, so
    a machine busy with other work does not make a fast BLAS look slow."""
    a = torch.randn(512, 512)
    b = torch.randn(512, 512)
    a @ b
    t0 = time.process_time()
    n = 0
    while time.process_time() - t0 < 0.2:
        a @ b
        n += 1
    gflops = 2 * 512 ** 3 * n / (time.process_time() - t0) / 1e9
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                if "blas" in path.lower() or "mkl" in path.lower():
                    libs.add(path)
    except OSError:
        pass
    return sorted(libs), gflops


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------
class LoraLinear(nn.Module):
    """y = x W^T + b + (alpha/r) x A^T B^T on output columns [start, end) (loralib, dropout 0)."""

    def __init__(self, base: nn.Linear, r, alpha, start, end):
        super().__init__()
        self.base = base
        self.start, self.end = start, end
        self.scaling = alpha / r
        in_dim = base.in_features
        bound = 1 / math.sqrt(in_dim)
        self.A = nn.Parameter(torch.empty(r, in_dim).uniform_(-bound, bound))
        self.B = nn.Parameter(torch.zeros(end - start, r))

    def forward(self, x):
        y = self.base(x)
        d = (x @ self.A.t() @ self.B.t()) * self.scaling
        if self.start == 0 and self.end == y.shape[-1]:
            return y + d
        return y + F.pad(d, (self.start, y.shape[-1] - self.end))


def linear(i, o):
    lin = nn.Linear(i, o)
    nn.init.normal_(lin.weight, 0, CFG["std"])
    nn.init.zeros_(lin.bias)
    return lin


class RobertaLayer(nn.Module):
    def __init__(self):
        super().__init__()
        h = CFG["hidden"]
        self.query, self.key, self.value = linear(h, h), linear(h, h), linear(h, h)
        self.attn_out = linear(h, h)
        self.ln1 = nn.LayerNorm(h, eps=CFG["eps"])
        self.inter = linear(h, CFG["inter"])
        self.out = linear(CFG["inter"], h)
        self.ln2 = nn.LayerNorm(h, eps=CFG["eps"])
        self.drop = nn.Dropout(CFG["dropout"])

    def forward(self, x, add_mask):
        b, l, h = x.shape
        nh = CFG["heads"]
        dh = h // nh

        def split(t):
            return t.view(b, l, nh, dh).permute(0, 2, 1, 3)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + add_mask
        probs = self.drop(torch.softmax(scores, -1))
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(b, l, h)
        x = self.ln1(self.drop(self.attn_out(ctx)) + x)
        f = self.drop(self.out(F.gelu(self.inter(x))))
        return self.ln2(f + x)


class MiniRoberta(nn.Module):
    PAD = 1

    def __init__(self, max_pos=514):
        super().__init__()
        h = CFG["hidden"]
        self.word = nn.Embedding(CFG["vocab"], h, padding_idx=self.PAD)
        self.pos = nn.Embedding(max_pos, h, padding_idx=self.PAD)
        self.token_type = nn.Embedding(1, h)
        for e in (self.word, self.pos, self.token_type):
            nn.init.normal_(e.weight, 0, CFG["std"])
        with torch.no_grad():
            self.word.weight[self.PAD].zero_()
            self.pos.weight[self.PAD].zero_()
        self.ln = nn.LayerNorm(h, eps=CFG["eps"])
        self.drop = nn.Dropout(CFG["dropout"])
        self.layers = nn.ModuleList([RobertaLayer() for _ in range(CFG["layers"])])
        self.cls_dense = linear(h, h)
        self.cls_out = linear(h, 2)

    def add_lora(self, r, alpha):
        for layer in self.layers:
            layer.query = LoraLinear(layer.query, r, alpha, 0, CFG["hidden"])
            layer.value = LoraLinear(layer.value, r, alpha, 0, CFG["hidden"])

    def head_params(self):
        return list(self.cls_dense.parameters()) + list(self.cls_out.parameters())

    def loss(self, ids, labels):
        mask = (ids != self.PAD).int()
        pos = torch.cumsum(mask, 1) * mask + self.PAD
        x = self.word(ids) + self.pos(pos) + self.token_type.weight[0]
        x = self.drop(self.ln(x))
        add_mask = ((1.0 - mask.float()) * -10000.0)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, add_mask)
        c = self.drop(x[:, 0])
        c = self.drop(torch.tanh(self.cls_dense(c)))
        return F.cross_entropy(self.cls_out(c), labels)


class Gpt2Block(nn.Module):
    def __init__(self):
        super().__init__()
        h = CFG["hidden"]
        proj_std = CFG["std"] / math.sqrt(2 * CFG["layers"])
        self.ln1 = nn.LayerNorm(h, eps=CFG["eps"])
        self.c_attn = linear(h, 3 * h)
        self.c_proj = linear(h, h)
        nn.init.normal_(self.c_proj.weight, 0, proj_std)
        self.ln2 = nn.LayerNorm(h, eps=CFG["eps"])
        self.c_fc = linear(h, CFG["inter"])
        self.mlp_proj = linear(CFG["inter"], h)
        nn.init.normal_(self.mlp_proj.weight, 0, proj_std)
        self.drop = nn.Dropout(CFG["dropout"])

    def forward(self, x, causal):
        b, l, h = x.shape
        nh = CFG["heads"]
        dh = h // nh
        q, k, v = self.c_attn(self.ln1(x)).split(h, dim=2)
        q, k, v = (t.view(b, l, nh, dh).permute(0, 2, 1, 3) for t in (q, k, v))
        w = q @ k.transpose(-1, -2) / math.sqrt(dh)
        w = w * causal - 1e10 * (1 - causal)
        probs = self.drop(torch.softmax(w, -1))
        a = (probs @ v).permute(0, 2, 1, 3).reshape(b, l, h)
        x = x + self.drop(self.c_proj(a))
        f = self.mlp_proj(F.gelu(self.c_fc(self.ln2(x)), approximate="tanh"))
        return x + self.drop(f)


class MiniGpt2(nn.Module):
    def __init__(self, max_pos=1024):
        super().__init__()
        h = CFG["hidden"]
        self.wte = nn.Embedding(CFG["vocab"], h)
        self.wpe = nn.Embedding(max_pos, h)
        nn.init.normal_(self.wte.weight, 0, CFG["std"])
        nn.init.normal_(self.wpe.weight, 0, CFG["std"])
        self.drop = nn.Dropout(CFG["dropout"])
        self.blocks = nn.ModuleList([Gpt2Block() for _ in range(CFG["layers"])])
        self.ln_f = nn.LayerNorm(h, eps=CFG["eps"])

    def add_lora(self, r, alpha):
        h = CFG["hidden"]
        for blk in self.blocks:
            # Two adapters on the fused c_attn: columns of q and of v (loralib MergedLinear, [T, F, T]).
            q = LoraLinear(blk.c_attn, r, alpha, 0, h)
            v = LoraLinear(blk.c_attn, r, alpha, 2 * h, 3 * h)
            base = blk.c_attn

            class Both(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.base, self.q, self.v = base, q, v

                def forward(self, x):
                    y = self.base(x)
                    for a in (self.q, self.v):
                        d = (x @ a.A.t() @ a.B.t()) * a.scaling
                        y = y + F.pad(d, (a.start, y.shape[-1] - a.end))
                    return y

            blk.c_attn = Both()

    def head_params(self):
        return []

    def loss(self, ids, labels, smoothing=0.1):
        b, l = ids.shape
        pos = torch.arange(l, device=ids.device)
        x = self.drop(self.wte(ids) + self.wpe(pos))
        causal = torch.tril(torch.ones(l, l, device=ids.device))
        for blk in self.blocks:
            x = blk(x, causal)
        logits = self.ln_f(x) @ self.wte.weight.t()
        logp = F.log_softmax(logits.view(b * l, -1), -1)
        nll = -logp.gather(1, labels.view(-1, 1)).squeeze(1)
        smooth = -logp.mean(-1)
        per_token = (1 - smoothing) * nll + smoothing * smooth
        return per_token.sum() / (b * l + 1e-4)


# ---------------------------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------------------------
def main():
    a = ARGS
    torch.set_num_threads(a.threads)
    libs, gflops = blas_check()
    is_openblas = any("openblas" in p.lower() for p in libs)
    cuda = a.device == "cuda"
    if cuda and not torch.cuda.is_available():
        print("--device cuda: PyTorch sees no CUDA device (torch.cuda.is_available() is False)", file=sys.stderr)
        sys.exit(3)
    if not cuda and not a.allow_any_blas and (not is_openblas or gflops < 20):
        found = ", ".join(libs) or "no BLAS library mapped"
        print(
            f"PyTorch is not using a fast OpenBLAS ({found}; sgemm {gflops:.1f} GFLOP/s): "
            "apt-get install libopenblas0-pthread, or the ratio would be meaningless",
            file=sys.stderr,
        )
        sys.exit(3)

    torch.manual_seed(a.seed)
    device = torch.device(a.device)
    model = MiniRoberta() if a.model == "bench-roberta" else MiniGpt2()
    if a.method == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        model.add_lora(8, 16)
        trainable = [p for n, p in model.named_parameters() if n.endswith(".A") or n.endswith(".B")]
        for p in model.head_params():
            p.requires_grad_(True)
        trainable += model.head_params()
    else:
        trainable = list(model.parameters())
    # Moving the module keeps the Parameter objects (in place), so `trainable` still names them.
    model.to(device)
    model.train()
    opt = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01, eps=1e-6)

    g = torch.Generator().manual_seed(a.seed)
    ids = torch.randint(3, CFG["vocab"], (a.batch, a.seq), generator=g)
    if a.model == "bench-roberta":
        labels = torch.arange(a.batch) % 2
    else:
        labels = torch.cat([ids[:, 1:], torch.zeros(a.batch, 1, dtype=torch.long)], 1)
    ids, labels = ids.to(device), labels.to(device)

    times = []
    cpu_times = []
    for i in range(a.warmup + a.steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model.loss(ids, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        loss.item()
        if cuda:
            torch.cuda.synchronize()
        dt = (time.perf_counter() - t0) * 1000
        if i >= a.warmup:
            times.append(dt)
            cpu_times.append((time.process_time() - c0) * 1000)

    def median(xs):
        s = sorted(xs)
        m = len(s) // 2
        return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2

    ms = median(times)
    print(
        json.dumps(
            {
                "implementation": "pytorch",
                "model": a.model,
                "method": a.method,
                "batch": a.batch,
                "seq": a.seq,
                "steps": a.steps,
                "msPerStep": ms,
                "stepTimesMs": times,
                "cpuMsPerStep": median(cpu_times),
                "tokensPerSecond": a.batch * a.seq * 1000 / ms,
                "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "trainableParams": sum(p.numel() for p in trainable),
                "threads": a.threads,
                "torch": torch.__version__,
                "blas": libs,
                "blasGflops": round(gflops, 1),
                "device": torch.cuda.get_device_name(0) if cuda else "cpu",
                **({"peakGpuMiB": torch.cuda.max_memory_allocated() / 2**20} if cuda else {}),
            }
        )
    )


if __name__ == "__main__":
    main()

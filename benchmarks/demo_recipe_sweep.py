"""Recipe sweep for the demo recognizer: which levers get it off the attention plateau in few steps.

A bare-torch re-creation of `configs/demo/recognizer_tiny.py` (ViT-Tiny/8 with the conv stem, LinearNorm,
pre-norm Transformer decoder, optional auxiliary CTC over the token columns, AdamW with layer-wise lr
decay, linear warm-up + cosine), trained from scratch on the demo's own synthetic words with the same
batch and step counts, so that many settings can be run side by side on one GPU (no OpenMMLab stack
needed there). Greedy word accuracy (WAICS) on the demo's synthetic test split at each quarter of the
schedule is written as JSON lines. The chosen settings were then checked with the real pipeline
(`make demo`). Results of the 2026-12-04 sweep on one H200: results/demo_recipe_sweep_h200_2026-12-04.jsonl.

    python benchmarks/demo_recipe_sweep.py export work_dirs/demo/data words.pkl   # after `make demo`
    python benchmarks/demo_recipe_sweep.py run words.pkl out.jsonl base "ctc:ctc=1.0:iters=2000"

A spec is ``name[:key=value...]`` over :data:`BASE`. ``model=mmocr`` trains the pipeline's own recognizer
(built from configs/demo/recognizer_tiny.py, losses from its ``loss``, words from its ``predict``) in the same
loop, with the same batches, schedule and the config's parameter groups, to tell the model's part of a difference
from the pipeline's (the spec's model sizes are then the config's).
"""
import argparse
import json
import math
import os
import pickle
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DICT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'dicts', 'english_digits_letters_symbols.txt')
CHARS = [line.rstrip('\n') for line in open(DICT)]
C2I = {c: i for i, c in enumerate(CHARS)}
EOS, PAD, UNK = len(CHARS), len(CHARS) + 1, len(CHARS) + 2
NCLS = len(CHARS) + 3
BOS = NCLS
MAXLEN = 25


def sincos2d(dim, h, w):
    gy, gx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing='ij')
    omega = 1. / 10000 ** (torch.arange(dim // 4, dtype=torch.float32) / (dim // 4))
    out = [torch.sin(gx.flatten()[:, None] * omega), torch.cos(gx.flatten()[:, None] * omega),
           torch.sin(gy.flatten()[:, None] * omega), torch.cos(gy.flatten()[:, None] * omega)]
    return torch.cat(out, 1)[None]


def sinusoid(n, d):
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    div = torch.pow(10000, torch.arange(0, d, 2, dtype=torch.float32) / d)
    t = torch.zeros(n, d)
    t[:, 0::2] = torch.sin(pos / div)
    t[:, 1::2] = torch.cos(pos / div)
    return t[None]


class Attn(nn.Module):
    def __init__(self, d, h, bias=True, kv_dim=None, drop=0.0):
        super().__init__()
        self.h = h
        self.q = nn.Linear(d, d, bias)
        self.kv = nn.Linear(kv_dim or d, 2 * d, bias)
        self.o = nn.Linear(d, d)
        self.drop = drop

    def forward(self, x, mem=None, mask=None):
        mem = x if mem is None else mem
        B, T, D = x.shape
        q = self.q(x).view(B, T, self.h, -1).transpose(1, 2)
        k, v = self.kv(mem).view(B, mem.shape[1], 2, self.h, -1).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.drop if self.training else 0.)
        return self.o(y.transpose(1, 2).reshape(B, T, D))


class Block(nn.Module):
    def __init__(self, d, h, ratio=4):
        super().__init__()
        self.n1 = nn.LayerNorm(d, eps=1e-6)
        self.a = Attn(d, h)
        self.n2 = nn.LayerNorm(d, eps=1e-6)
        self.m = nn.Sequential(nn.Linear(d, d * ratio), nn.GELU(), nn.Linear(d * ratio, d))

    def forward(self, x):
        x = x + self.a(self.n1(x))
        return x + self.m(self.n2(x))


def conv_stem(cin, d, patch=8):
    n = int(math.log2(patch))
    layers = []
    c = cin
    for i in range(n):
        w = d // 2 ** (n - 1 - i)
        layers += [nn.Conv2d(c, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(True)]
        c = w
    return nn.Sequential(*layers, nn.Conv2d(c, d, 1))


class Encoder(nn.Module):
    def __init__(self, d=128, depth=4, heads=4, stem='conv', cin=3):
        super().__init__()
        self.stem = conv_stem(cin, d) if stem == 'conv' else nn.Conv2d(cin, d, 8, 8)
        self.register_buffer('pos', sincos2d(d, 4, 16))
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        nn.init.normal_(self.cls, std=.02)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(d, eps=1e-6)

    def forward(self, x):
        t = self.stem(x).flatten(2).transpose(1, 2) + self.pos
        t = torch.cat([self.cls.expand(len(t), -1, -1), t], 1)
        for b in self.blocks:
            t = b(t)
        return self.norm(t)


class DecLayer(nn.Module):
    def __init__(self, d, h, inner, drop):
        super().__init__()
        self.n1, self.n2, self.n3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.sa = Attn(d, h, bias=False, drop=drop)
        self.ca = Attn(d, h, bias=False, drop=drop)
        self.ff = nn.Sequential(nn.Linear(d, inner), nn.GELU(), nn.Linear(inner, d), nn.Dropout(drop))
        self.dp = nn.Dropout(drop)

    def forward(self, x, mem, mask):
        x = x + self.dp(self.sa(self.n1(x), mask=mask))
        x = x + self.dp(self.ca(self.n2(x), mem))
        return x + self.ff(self.n3(x))


class Recognizer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg['enc_dim']
        self.enc = Encoder(d, cfg['enc_layers'], 4, cfg['stem'], 1 if cfg['gray'] else 3)
        self.neck = nn.Sequential(nn.Linear(d, 128), nn.LayerNorm(128))
        self.emb = nn.Embedding(NCLS + 1, 128)
        self.register_buffer('pe', sinusoid(200, 128))
        self.drop = nn.Dropout(cfg['dec_drop'])
        self.layers = nn.ModuleList([DecLayer(128, 4, 256, cfg['dec_drop']) for _ in range(cfg['dec_layers'])])
        self.ln = nn.LayerNorm(128, eps=1e-6)
        self.cls = nn.Linear(128, NCLS)
        self.ctc = nn.Linear(d, 2 * (len(CHARS) + 1)) if cfg['ctc'] else None

    def decode(self, tokens, mem, mask):
        x = self.drop(self.emb(tokens) + self.pe[:, :tokens.shape[1]])
        for layer in self.layers:
            x = layer(x, mem, mask)
        return self.cls(self.ln(x))

    def forward(self, img, tgt_in, mask):
        feats = self.enc(img)
        return self.decode(tgt_in, self.neck(feats), mask), feats

    @torch.no_grad()
    def greedy(self, img):
        mem = self.neck(self.enc(img))
        B = len(img)
        tokens = torch.full((B, 1), BOS, dtype=torch.long, device=img.device)
        for _ in range(MAXLEN):
            steps = tokens.shape[1]
            causal = None if steps == 1 else torch.ones(steps, steps, dtype=torch.bool, device=img.device).tril()
            logits = self.decode(tokens, mem, causal)
            tokens = torch.cat([tokens, logits[:, -1].argmax(-1, keepdim=True)], 1)
        out = []
        for row in tokens[:, 1:].tolist():
            s = ''
            for t in row:
                if t == EOS:
                    break
                s += CHARS[t] if t < len(CHARS) else ''
            out.append(s)
        return out


def waics(pred, gt):
    def alnum_lower(s):
        return ''.join(c for c in s.lower() if c.isalnum())
    return float(np.mean([alnum_lower(p) == alnum_lower(g) for p, g in zip(pred, gt)]))


def encode_labels(labels, device):
    lens = torch.tensor([min(len(label), MAXLEN - 1) + 1 for label in labels])
    T = int(lens.max())
    tgt = torch.full((len(labels), T), PAD, dtype=torch.long)
    for i, label in enumerate(labels):
        ids = [C2I.get(c, UNK) for c in label[:MAXLEN - 1]] + [EOS]
        tgt[i, :len(ids)] = torch.tensor(ids)
    return tgt.to(device), lens.to(device)


def load_data(path, device, gray):
    import cv2
    data = pickle.load(open(path, 'rb'))
    out = {}
    for split, (encs, labels) in data.items():
        imgs = np.stack([cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1] for b in encs])
        t = torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous().to(device)
        out[split] = (t, list(labels))
    return out


def norm(x, gray):
    x = x.float() / 127.5 - 1
    return x.mean(1, keepdim=True) if gray else x


def param_groups(model, cfg):
    L = cfg['enc_layers']
    groups = {}
    for name, p in model.named_parameters():
        if name.startswith('enc.'):
            if name.startswith(('enc.stem', 'enc.cls')):
                depth = 0
            else:
                depth = int(name.split('.')[2]) + 1 if name.startswith('enc.blocks') else L + 1
        else:
            depth = L + 1
        scale = cfg['layer_decay'] ** (L + 1 - depth)
        wd = 0.0 if p.ndim == 1 or name.endswith('cls') else 0.05
        groups.setdefault((scale, wd), []).append(p)
    return [dict(params=ps, lr_scale=s, weight_decay=wd) for (s, wd), ps in groups.items()]


class PipelineRecognizer(nn.Module):
    """The demo config's recognizer (mmocr ViTRecognizer) behind this loop's interface."""

    def __init__(self):
        super().__init__()
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        from mmocr.registry import MODELS

        import lmim_mm  # noqa: F401 (registers the modules)
        init_default_scope('mmocr')
        self.cfg = Config.fromfile(os.path.join(os.path.dirname(DICT), '..', 'configs', 'demo', 'recognizer_tiny.py'))
        self.cfg.model.pop('data_preprocessor')
        self.net = MODELS.build(self.cfg.model)
        self.net.init_weights()

    def param_groups(self):
        """The config's parameter groups (its optimizer constructor: weight decay and ``lr_scale`` per group)."""
        from mmengine.optim import build_optim_wrapper
        return build_optim_wrapper(self.net, self.cfg.optim_wrapper).optimizer.param_groups

    @staticmethod
    def samples(labels):
        from mmengine.structures import LabelData
        from mmocr.structures import TextRecogDataSample
        out = []
        for label in labels:
            sample = TextRecogDataSample(metainfo=dict(valid_ratio=1.0))
            sample.gt_text = LabelData(item=label)
            out.append(sample)
        return out

    def loss(self, img, labels):
        return sum(self.net.loss(img, self.samples(labels)).values())

    @torch.no_grad()
    def greedy(self, img):
        return [s.pred_text.item for s in self.net.predict(img, self.samples([''] * len(img)))]


def run(cfg, data, device, log):
    torch.manual_seed(cfg['seed'])
    np.random.seed(cfg['seed'])
    pipeline = cfg['model'] == 'mmocr'
    model = (PipelineRecognizer() if pipeline else Recognizer(cfg)).to(device)
    groups = model.param_groups() if pipeline else param_groups(model, cfg)
    opt = torch.optim.AdamW(groups, lr=cfg['lr'], betas=(0.9, 0.999))
    imgs, labels = data['train']
    timgs, tlabels = data['test']
    n = len(labels)
    iters = cfg['iters']
    wu = cfg['warmup']
    bs = cfg['batch']
    evals = sorted(set([int(iters * f) for f in (0.25, 0.5, 0.75, 1.0)]))
    perm = torch.randperm(n)
    pos = 0
    t0 = time.time()
    losses = []
    for it in range(1, iters + 1):
        if it <= wu:
            lr = cfg['lr'] * (1e-3 + (1 - 1e-3) * (it - 1) / wu)
        else:
            lr = 1e-6 + 0.5 * (cfg['lr'] - 1e-6) * (1 + math.cos(math.pi * (it - wu) / max(1, iters - wu)))
        for g in opt.param_groups:
            g['lr'] = lr * g['lr_scale']
        if pos + bs > n:
            perm = torch.randperm(n)
            pos = 0
        idx = perm[pos:pos + bs]
        pos += bs
        x = norm(imgs[idx.to(device)], cfg['gray'])
        model.train()
        if pipeline:
            loss = model.loss(x, [labels[i] for i in idx.tolist()])
        else:
            loss = bare_loss(model, cfg, x, [labels[i] for i in idx.tolist()])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg['clip']:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg['clip'])
        opt.step()
        losses.append(loss.item() if it % 25 == 0 else None)
        if it in evals:
            model.eval()
            preds = []
            for s in range(0, len(tlabels), 250):
                preds += model.greedy(norm(timgs[s:s + 250], cfg['gray']))
            tr = [value for value in losses[-100:] if value is not None]
            rec = dict(name=cfg['name'], it=it, iters=iters, waics=round(100 * waics(preds, tlabels), 2),
                       loss=round(float(np.mean(tr)), 3), sec=round(time.time() - t0, 1), sample=preds[:5])
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + '\n')
            log.flush()


def bare_loss(model, cfg, x, batch_labels):
    """Cross-entropy of the decoder (teacher forcing) plus the weighted column CTC."""
    device, bs = x.device, len(batch_labels)
    tgt, lens = encode_labels(batch_labels, device)
    T = tgt.shape[1]
    tin = torch.cat([torch.full((bs, 1), BOS, device=device, dtype=torch.long), tgt[:, :-1].clamp(max=NCLS - 1)], 1)
    keymask = torch.arange(T, device=device)[None, :] < lens[:, None]
    mask = (torch.ones(T, T, dtype=torch.bool, device=device).tril()[None] & keymask[:, None, :])[:, None]
    logits, feats = model(x, tin, mask)
    loss = F.cross_entropy(logits.reshape(-1, NCLS), tgt.reshape(-1), ignore_index=PAD, label_smoothing=cfg['ls'])
    if model.ctc is not None:
        cols = feats[:, 1:].reshape(bs, 4, 16, -1).mean(1)
        lp = model.ctc(cols).view(bs, 32, -1).log_softmax(-1).transpose(0, 1)  # T=32
        ctgt = tgt.clone()
        ctgt[ctgt >= len(CHARS)] = 0
        clens = (lens - 1).clamp(min=1)
        loss = loss + cfg['ctc'] * F.ctc_loss(lp.float(), ctgt, torch.full((bs,), 32, dtype=torch.long, device=device),
                                              clens, blank=len(CHARS), zero_infinity=True)
    return loss


BASE = dict(iters=1400, lr=1e-3, warmup=50, batch=64, ctc=0.0, dec_drop=0.1, layer_decay=0.9, stem='conv', gray=False,
            enc_layers=4, enc_dim=128, dec_layers=2, ls=0.0, clip=0.0, seed=0, model='bare')


def parse(spec):
    name, *kv = spec.split(':')
    cfg = dict(BASE, name=name)
    for item in kv:
        k, v = item.split('=')
        cfg[k] = type(BASE[k])(v) if not isinstance(BASE[k], bool) else v in ('1', 'True', 'true')
    return cfg


def export(data_root, out):
    """The demo's synthetic train/test LMDBs as JPEG bytes (resized to 128x32 as the pipeline does) + labels."""
    import cv2
    import lmdb
    data = {}
    for split in ('train', 'test'):
        env = lmdb.open(os.path.join(data_root, split), readonly=True, lock=False)
        encs, labels = [], []
        with env.begin() as txn:
            for i in range(1, int(txn.get(b'num-samples')) + 1):
                img = cv2.imdecode(np.frombuffer(txn.get(b'image-%09d' % i), np.uint8), cv2.IMREAD_COLOR)
                img = cv2.resize(img, (128, 32), interpolation=cv2.INTER_CUBIC)
                encs.append(cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
                labels.append(txn.get(b'label-%09d' % i).decode())
        data[split] = (encs, labels)
    with open(out, 'wb') as f:
        pickle.dump(data, f)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    e = sub.add_parser('export')
    e.add_argument('data_root')
    e.add_argument('out')
    r = sub.add_parser('run')
    r.add_argument('data')
    r.add_argument('out')
    r.add_argument('specs', nargs='+')
    r.add_argument('--limit', type=int, default=0, help='use only the first N words of each split (smoke test)')
    a = p.parse_args()
    if a.cmd == 'export':
        export(a.data_root, a.out)
    else:
        dev = 'cuda' if torch.cuda.is_available() else 'cpu'
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        data = load_data(a.data, dev, False)
        if a.limit:
            data = {k: (v[0][:a.limit], v[1][:a.limit]) for k, v in data.items()}
        with open(a.out, 'a') as log:
            for spec in a.specs:
                run(parse(spec), data, dev, log)

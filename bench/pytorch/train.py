#!/usr/bin/env python3
"""PyTorch CPU baseline for bench/run: the same models, data, batch, optimiser and epochs as sparkconv's
TrainBench, limited to the same thread budget. Prints one line: BENCH {json} (same schema as TrainBench)."""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndims = raw[3]
    dims = struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def find(data, base):
    for name in (base, base + ".gz"):
        if os.path.exists(os.path.join(data, name)):
            return os.path.join(data, name)
    raise SystemExit(f"{data}: missing {base}[.gz]")


def candle_cnn(filters, strided_first, classes, rows):
    """sparkconv's candle-cnn-N (Jiang, Kelly & Xiu): per block a 5x3 conv, batch norm, leaky ReLU, 2x1 max pool;
    the 20- and 60-day nets' first conv has vertical stride 3, dilation 2, padding 12x1; dropout 0.5 before the output."""
    layers, channels = [], 1
    for b, f in enumerate(filters):
        if b == 0 and strided_first:
            layers.append(nn.Conv2d(channels, f, (5, 3), stride=(3, 1), dilation=(2, 1), padding=(12, 1)))
            rows = (rows + 24 - 8 - 1) // 3 + 1
        else:
            layers.append(nn.Conv2d(channels, f, (5, 3), padding=(2, 1)))
        layers += [nn.BatchNorm2d(f), nn.LeakyReLU(0.01), nn.MaxPool2d((2, 1))]
        rows, channels = rows // 2, f
    return layers, rows * channels


def model(name, classes=10, shape=(28, 28)):
    if name == "candle-cnn-20":  # 64x60 OHLC windows: 708,866 trainable parameters for 2 classes, as in sparkconv
        layers, flat = candle_cnn((64, 128, 256), True, classes, shape[0])
        return nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.5), nn.Linear(flat * shape[1], classes))
    if name == "candle-cnn-60":  # 96x180 windows: a fourth block of 512 filters
        layers, flat = candle_cnn((64, 128, 256, 512), True, classes, shape[0])
        return nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.5), nn.Linear(flat * shape[1], classes))
    if name == "alexnet":  # sparkconv's ImageNet layout (227x227x3, ungrouped convolutions): 62.4M parameters for 1000 classes
        # PyTorch divides alpha by the window (5); DL4J does not: 5e-4 here is DL4J's alpha 1e-4
        lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)
        conv = lambda i, o, k, s=1, p=0: [nn.Conv2d(i, o, k, stride=s, padding=p), nn.ReLU()]
        return nn.Sequential(
            *conv(3, 96, 11, 4), lrn(), nn.MaxPool2d(3, 2), *conv(96, 256, 5, p=2), lrn(), nn.MaxPool2d(3, 2),
            *conv(256, 384, 3, p=1), *conv(384, 384, 3, p=1), *conv(384, 256, 3, p=1), nn.MaxPool2d(3, 2), nn.Flatten(),
            nn.Dropout(0.5), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, classes))
    if name == "lenet5":  # C1 5x5x6 (pad 2 at 28x28) - avg - C3 5x5x16 - avg - 120 - 84 - 10, ReLU as in sparkconv
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    if name == "seed-trace":  # conv 5x5x8 - max 2 - conv 3x3x16 - max 2 - dense 10
        return nn.Sequential(
            nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10))  # 28x28 input: 5x5x16
    raise SystemExit(f"unknown model {name}")


# sparkconv's default input per model (describe: channels, rows, columns) and classes: --random's examples, memory.py's
RANDOM_INPUTS = {"candle-cnn-20": ((1, 64, 60), 10), "candle-cnn-60": ((1, 96, 180), 10),
                 "alexnet": ((3, 227, 227), 1000), "lenet5": ((1, 28, 28), 10)}


def random_split(name, n, seed):
    """n random training images of the model's input (uint8 pixels, as IDX holds them) with random labels, and one
    test image per ten: for speed, which does not depend on the pixels."""
    shape, classes = RANDOM_INPUTS[name]
    rng = np.random.default_rng(seed)
    images = lambda k: rng.integers(0, 256, (k,) + shape, dtype=np.uint8)
    labels = lambda k: rng.integers(0, classes, k)
    return images(n), labels(n), images(max(n // 10, 1)), labels(max(n // 10, 1)), classes


def accuracy(net, x, y, batch=512):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    net.train()
    return correct / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="lenet5")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--updater", choices=["nesterovs", "adam"], default="nesterovs",
                   help="nesterovs: momentum 0.9, L2 1e-4 (the product's image defaults); adam: no weight decay (the chart models')")
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--lr-decay", type=float, default=0.8)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--label", default="")
    p.add_argument("--target", type=float, default=0.0,
                   help="time to accuracy: test accuracy twice per epoch (clocks paused); stop once reached after --min-epochs")
    p.add_argument("--min-epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=42, help="weights' initialisation and the epochs' shuffles")
    p.add_argument("--random", type=int, default=0, metavar="N",
                   help="N random training images of the model's own input shape and classes instead of --data (speed only)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    classes = None
    if a.random:
        x, y, tx, ty, classes = random_split(a.model, a.random + max(a.random // 10, 1), a.seed)  # N to train, a tenth held out
        x, tx = x.astype(np.float32) / 255.0, tx.astype(np.float32) / 255.0
        a.data = "random"
    else:
        x = read_idx(find(a.data, "train-images-idx3-ubyte")).astype(np.float32) / 255.0
        y = read_idx(find(a.data, "train-labels-idx1-ubyte")).astype(np.int64)
        tx = read_idx(find(a.data, "t10k-images-idx3-ubyte")).astype(np.float32) / 255.0
        ty = read_idx(find(a.data, "t10k-labels-idx1-ubyte")).astype(np.int64)
    if a.limit:  # same subsets as sparkconv's preprocess --limit: first N train, first N/6 test
        x, y, tx, ty = x[:a.limit], y[:a.limit], tx[:max(a.limit // 6, 1)], ty[:max(a.limit // 6, 1)]
    held = (5000 if not a.limit else a.limit // 10) if not a.random else max(a.random // 10, 1)
    train_x, train_y, val_x, val_y = x[:-held], y[:-held], x[-held:], y[-held:]
    mean, std = train_x.mean(), train_x.std()  # normalisation from the training split, as the manifest does
    t = lambda arr: torch.from_numpy((arr - mean) / std).unsqueeze(1) if arr.ndim == 3 else torch.from_numpy((arr - mean) / std)
    train_x, val_x, tx = t(train_x), t(val_x), t(tx)
    train_y, val_y, ty = (torch.from_numpy(v.astype(np.int64)) for v in (train_y, val_y, ty))

    net = model(a.model, classes or int(max(y.max(), ty.max())) + 1, tuple(x.shape[-2:]))
    opt = (torch.optim.Adam(net.parameters(), lr=a.lr) if a.updater == "adam"
           else torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, nesterov=True, weight_decay=1e-4))
    loss_fn = nn.CrossEntropyLoss()
    epochs = []
    evaluations, reached = [], None
    clock = {"wall": 0.0, "cpu": 0.0}  # training time so far, evaluations excluded

    def evaluate(at):
        nonlocal reached
        acc = accuracy(net, tx, ty)
        row = {"epoch": at, "seconds": clock["wall"], "cpuSeconds": clock["cpu"], "testAccuracy": acc}
        evaluations.append(row)
        if reached is None and acc >= a.target:
            reached = row
        return reached is not None and at >= a.min_epochs

    done = False
    for epoch in range(1, a.epochs + 1):
        for g in opt.param_groups:
            g["lr"] = a.lr * a.lr_decay ** (epoch - 1)
        order = torch.randperm(len(train_x))
        batches = list(range(0, len(order), a.batch))
        secs = cpu = 0.0
        start, cpu_start = time.perf_counter(), time.process_time()
        for n, i in enumerate(batches):
            idx = order[i:i + a.batch]
            opt.zero_grad()
            loss_fn(net(train_x[idx]), train_y[idx]).backward()
            opt.step()
            if a.target and n + 1 in (len(batches) // 2, len(batches)):
                w, c = time.perf_counter() - start, time.process_time() - cpu_start
                secs, cpu = secs + w, cpu + c
                clock["wall"] += w
                clock["cpu"] += c
                done = evaluate(epoch - 0.5 if n + 1 < len(batches) else epoch)
                if done:
                    break
                start, cpu_start = time.perf_counter(), time.process_time()
        if not a.target:
            secs, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if done:
            break
        epochs.append({"epoch": epoch, "examplesPerSecond": len(order) / secs, "seconds": secs,
                       "examplesPerCpuSecond": len(order) / cpu,
                       "validationAccuracy": accuracy(net, val_x, val_y)})
    out = {"bench": "train", "label": a.label, "model": a.model, "data": os.path.basename(a.data.rstrip("/")), "mode": "pytorch",
           "master": f"pytorch {torch.__version__}", "threads": str(a.threads),
           "updater": a.updater, "averagingFrequency": 0, "repeat": 1, "workers": 1,
           "examplesPerEpoch": len(train_x), "lr": a.lr, "batch": a.batch, "seed": a.seed, "lrSchedule": f"exp:{a.lr_decay}",
           "epochs": epochs, "testAccuracy": accuracy(net, tx, ty)}
    if a.target:
        out["tta"] = {"target": a.target, "reached": reached, "evaluations": evaluations}
    print("BENCH " + json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Peak resident memory of PyTorch training a bench/pytorch/train.py model for a few steps on one thread, on random
inputs of the model's shape: the comparison for docs/memory.md's per-worker peaks. Prints one line: PYTORCH_MEMORY {json}
with the process's peak RSS (VmHWM) after importing torch, after building the model and optimiser, and at the end."""
import argparse
import json
import os
import resource
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import RANDOM_INPUTS, model  # noqa: E402 (the benchmark's models)

# sparkconv's defaults per model (describe): input shape, classes and updater
UPDATERS = {"candle-cnn-20": "adam", "candle-cnn-60": "adam", "alexnet": "nesterovs", "lenet5": "nesterovs"}
MODELS = {name: RANDOM_INPUTS[name] + (updater,) for name, updater in UPDATERS.items()}


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux: VmHWM


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", required=True, choices=sorted(MODELS))
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--steps", type=int, default=2, help="training steps, then one evaluation forward pass")
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(42)
    imported = peak_mib()
    shape, classes, updater = MODELS[a.model]
    net = model(a.model, classes, shape[1:])
    opt = (torch.optim.Adam(net.parameters(), lr=1e-5) if updater == "adam"
           else torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4))
    built = peak_mib()
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.batch, *shape)
    y = torch.randint(0, classes, (a.batch,))
    for _ in range(a.steps):
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        net(x)
    params = sum(t.numel() for t in net.parameters())
    print("PYTORCH_MEMORY " + json.dumps({"model": a.model, "batch": a.batch, "steps": a.steps, "updater": updater,
                                          "torch": torch.__version__, "parameters": params,
                                          "peakRssAfterImportMiB": round(imported), "peakRssAfterBuildMiB": round(built),
                                          "peakRssMiB": round(peak_mib())}))


if __name__ == "__main__":
    main()

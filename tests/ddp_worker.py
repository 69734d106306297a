"""Run by tests/test_training.py under torchrun: three DDP steps of a family's shared loop.

Each rank writes its generator's weights after training, so the test can check they agree.
"""

import sys
from pathlib import Path

import safetensors.torch

from ganapps.training import Run, TrainConfig, training_steps

data, out, family = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
cfg = TrainConfig(family=family, data=(data,), out=str(out / "out"), steps=3, batch_size=8, tiny=True, device="cpu")
run = Run(cfg)
if run.rank == 0:
    safetensors.torch.save_file({k: v.contiguous() for k, v in run.export.state_dict().items()}, out / "initial.safetensors")
for _ in training_steps(run):
    pass
run.save()
state = {k: v.contiguous() for k, v in run.export.state_dict().items()}
safetensors.torch.save_file(state, out / f"rank{run.rank}.safetensors")
run.close()

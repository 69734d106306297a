"""Run by tests/test_training.py under torchrun: ``ganapps.train()`` for each given run, tiny configs.

Every rank writes the exported network's weights after each run, so the test can check they agree.
With ``nan`` as a third argument, one DCGAN run whose data is NaN on rank 1 only: every rank writes
the error it stopped with.
"""

import json
import os
import sys
from pathlib import Path

import safetensors.torch
import torch

from ganapps import TrainConfig, train
from ganapps.training import process_group

out, runs = Path(sys.argv[1]), json.loads(sys.argv[2])  # {name: TrainConfig fields}
rank = int(os.environ["RANK"])
with process_group("cpu"):  # the entry point owns the process group
    if sys.argv[3:] == ["nan"]:
        images = torch.full((64, 1, 28, 28), float("nan") if rank == 1 else 0.0)
        try:
            train(TrainConfig(out=str(out / "nan"), tiny=True, device="cpu", **runs["dcgan"]), progress=False,
                  data=(images, torch.zeros(64, dtype=torch.long)))
        except FloatingPointError as err:
            (out / f"nan-rank{rank}.txt").write_text(str(err))
    else:
        for name, fields in runs.items():
            run = train(TrainConfig(out=str(out / name), tiny=True, device="cpu", **fields), progress=False)
            weights = {k: v.contiguous() for k, v in run.export.state_dict().items()}
            safetensors.torch.save_file(weights, out / name / f"rank{run.rank}.safetensors")

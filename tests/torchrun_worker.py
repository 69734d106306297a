"""Run by tests/test_training.py under torchrun: ``ganapps.train()`` for each given run, tiny configs.

Every rank writes the exported network's weights after each run, so the test can check they agree.
"""

import json
import sys
from pathlib import Path

import safetensors.torch

from ganapps import TrainConfig, train

out, runs = Path(sys.argv[1]), json.loads(sys.argv[2])  # {name: TrainConfig fields}
for name, fields in runs.items():
    run = train(TrainConfig(out=str(out / name), tiny=True, device="cpu", **fields), progress=False)
    weights = {k: v.contiguous() for k, v in run.export.state_dict().items()}
    safetensors.torch.save_file(weights, out / name / f"rank{run.rank}.safetensors")

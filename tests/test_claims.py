"""The lab's claims: each measured against a target it can miss; ``python -m ganapps lab`` prints them."""

import json
import subprocess
import sys

import pytest

from ganapps.lab import claims

from .conftest import ROOT

FAST = ["prisoners_dilemma", "boxed_pigs", "dirac_simultaneous", "dirac_alternating", "dirac_r1"]


def lab(*args):
    return subprocess.run([sys.executable, "-m", "ganapps", "lab", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_names_are_the_ones_the_lab_promises():
    assert list(claims.CLAIMS) == ["optimal_discriminator", "equilibrium", "vanishing_gradients", "mode_collapse",
                                   "mode_collapse_fixed", *FAST, "losses_vs_progress"]


def test_cli_prints_the_table_and_one_json_line():
    result = lab(*FAST, "--json")
    assert result.returncode == 0, result.stderr
    *table, last = result.stdout.strip().splitlines()
    found = json.loads(last)
    assert list(found) == FAST and all(found[name]["holds"] for name in FAST)
    assert found["boxed_pigs"]["measured"] == ["press / wait"] and found["dirac_r1"]["measured"] < 0.05
    assert len(table) == 2 + len(FAST) and all(line.count(" | ") == 4 for line in table[2:])  # pipes in the text escaped


@pytest.mark.slow
def test_a_claim_measured_where_it_should_not_hold_fails_and_says_so():
    # one training step cannot cover a ring of eight modes: the recipe's claim must come out false
    assert claims.measure("mode_collapse_fixed", steps=1)["holds"] is False
    result = lab("mode_collapse_fixed", "--steps", "1")
    assert result.returncode == 1 and "**no**" in result.stdout
    with pytest.raises(ValueError, match="unknown claim 'nash'; available: optimal_discriminator"):
        claims.measure("nash")
    assert lab("nash").returncode == 2


def test_losses_vs_progress_does_not_hold_on_a_run_that_made_no_progress_to_compare_with():
    found = claims.measure("losses_vs_progress", steps=3)  # no stretch measured: nothing shows a loss is uninformative
    assert found["holds"] is False and found["measured"]["stretches"] == 0

"""Run the README's results-table experiments with their default profile and print the table.

Usage: python benchmarks/results_table.py [--out runs] [--only exp_122 ...]

Each row is `python -m experiments.NAME [--set ...]` with no other argument,
i.e. the default run on the embedded corpus (CPU profile). The table is built
from each run's metrics.json; rows are printed as they finish.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# (experiment, overrides, what differs from exp_122)
ROWS = [
    ("exp_122", [], "flagship: L2 embedding, semi-hard triplet (margin 0.5), no cross-entropy"),
    ("exp_123", [], "+ cross-entropy head (## 123)"),
    ("exp_124", [], "loss: batch-hard triplet instead of semi-hard (## 124)"),
    ("exp_122", ["model.activation=relu"], "activation: ReLU instead of Swish"),
    ("exp_conformer_aam", [], "Conformer + additive angular margin (reference 004)"),
    ("exp_transformer_supcon", [], "Transformer + supervised contrastive (reference 000)"),
]


def run(name: str, overrides: list[str], out: Path) -> Path:
    before = set((out / name).glob("*")) if (out / name).is_dir() else set()
    command = [sys.executable, "-m", f"experiments.{name}", "--out", str(out)]
    for item in overrides:
        command += ["--set", item]
    subprocess.run(command, check=True)
    (run_dir,) = set((out / name).glob("*")) - before
    return run_dir


def row(name: str, overrides: list[str], change: str, run_dir: Path) -> str:
    m = json.loads((run_dir / "metrics.json").read_text())
    command = f"python -m experiments.{name}" + "".join(f" --set {o}" for o in overrides)
    return (
        f"| `{command}` | {change} | {100 * m['eer']:.2f} | {m['min_dcf_p01']:.3f} | {m['min_dcf_p05']:.3f} "
        f"| {100 * m['baseline_eer']:.2f} | {m['steps']} | {m['wall_seconds']:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="runs")
    parser.add_argument("--only", nargs="*", help="run only these experiments")
    args = parser.parse_args()
    print(
        "| command | differs from exp_122 | test EER % | minDCF 0.01 | minDCF 0.05 | MFCC baseline EER % "
        "| steps | train s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, overrides, change in ROWS:
        if args.only and name not in args.only:
            continue
        run_dir = run(name, overrides, Path(args.out))
        print(row(name, overrides, change, run_dir), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The benchmarks on a GPU machine, in under 8 minutes: one JSON line per measurement
# (machine info included) on stdout and in the file given as $1 (default gpu_results.jsonl).
#   bash benchmarks/gpu.sh [OUT.jsonl]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" TF_CPP_MIN_LOG_LEVEL=2
out="${1:-gpu_results.jsonl}"
gpus=$(python3 -c "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))")
replicas="1"
if [ "$gpus" -ge 2 ]; then replicas="1 2"; fi
echo "GPUs: $gpus; results -> $out" >&2
{
  # fit examples/s and peak memory: raw exp_122 and log-mel, XLA off/on, then mixed precision.
  timeout 300 python3 benchmarks/train_step.py --models logmel raw --xla 0 1 --mixed 0 \
    --replicas $replicas --repeats 1 --warmup 5 --steps 30 || echo '{"benchmark": "train_step", "error": "timeout"}'
  timeout 120 python3 benchmarks/train_step.py --models logmel raw --xla 0 --mixed 1 \
    --replicas 1 --repeats 1 --warmup 5 --steps 30 || echo '{"benchmark": "train_step", "error": "timeout"}'
  # input pipeline (CPU work): WAV vs TFRecord shards, DataPP off/on, 1 / 2 threads.
  timeout 90 python3 benchmarks/pipeline_throughput.py --windows 5 --steps 8 \
    || echo '{"benchmark": "pipeline", "error": "timeout"}'
} | tee "$out"

#!/usr/bin/env bash
# Spark GPU discovery script (spark.{driver,executor,worker}.resource.gpu.discoveryScript): prints the GPUs this
# host's executor may use as Spark's ResourceInformation JSON, e.g. {"name": "gpu", "addresses": ["0", "1"]}.
# Addresses are CUDA ordinals as nvidia-smi numbers them, which is what sparkconv.spark.GpuAffinity hands to ND4J.
# Honours CUDA_VISIBLE_DEVICES when it lists ordinals (a container or scheduler may restrict the card set).
set -euo pipefail
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" && "${CUDA_VISIBLE_DEVICES}" =~ ^[0-9,]+$ ]]; then
  ids="$(tr ',' '\n' <<<"$CUDA_VISIBLE_DEVICES" | awk 'NF{print NR-1}')"
else
  ids="$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null || true)"
fi
printf '{"name": "gpu", "addresses": ['
sep=""
while read -r id; do
  [[ -z "$id" ]] && continue
  printf '%s"%s"' "$sep" "$(tr -d '[:space:]' <<<"$id")"
  sep=", "
done <<<"$ids"
printf ']}\n'

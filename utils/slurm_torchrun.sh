#!/usr/bin/env bash
# Distributed training inside a Slurm allocation: torchrun on every allocated node, rendezvous
# on the first node, ranks from Slurm.
#
#   utils/slurm_torchrun.sh [--nproc-per-node P] [--port N] -m seslib.bin.train ARGS...
#
# Run it as the command of a Slurm job (utils/launch.sh --backend slurm [--nodes N] LOG ...):
# outside a job step it starts one step with srun, one task per node; in each task it runs
#   torchrun --nnodes $SLURM_NNODES --node-rank $SLURM_NODEID --nproc-per-node P
#            --rdzv-backend c10d --rdzv-endpoint <first node>:<port> --rdzv-id $SLURM_JOB_ID
# P defaults to the GPUs Slurm gave the task, else 1.
set -euo pipefail
nproc=""; port=29400
while [ $# -gt 0 ]; do
  case "$1" in
    --nproc-per-node) nproc=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) break ;;
  esac
done
[ -n "${SLURM_JOB_ID:-}" ] || { echo "$0: not inside a Slurm job (no SLURM_JOB_ID)" 1>&2; exit 1; }
if [ -z "${SLURM_STEP_ID:-}" ] || [ "${SLURM_STEP_ID}" = 4294967294 ]; then  # the batch script, not a step
  exec srun --nodes="${SLURM_NNODES:-1}" --ntasks-per-node=1 --kill-on-bad-exit=1 \
    "$0" --nproc-per-node "${nproc:-0}" --port "$port" "$@"
fi
if [ -z "$nproc" ] || [ "$nproc" = 0 ]; then
  nproc=$(echo "${SLURM_GPUS_ON_NODE:-${SLURM_GPUS_PER_TASK:-1}}" | sed 's/.*://')
fi
master=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
echo "$0: node ${SLURM_NODEID:-0} of ${SLURM_NNODES:-1}, $nproc process(es), rendezvous $master:$port" 1>&2
exec python -m torch.distributed.run --nnodes "${SLURM_NNODES:-1}" --node-rank "${SLURM_NODEID:-0}" \
  --nproc-per-node "$nproc" --rdzv-backend c10d --rdzv-endpoint "$master:$port" --rdzv-id "$SLURM_JOB_ID" "$@"

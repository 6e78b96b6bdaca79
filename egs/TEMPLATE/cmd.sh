# How jobs are launched (Kaldi style), shared by the recipes (linked; replace the link with a copy to
# launch one recipe differently). Every command is `$cmd JOB=1:N LOG COMMAND...`.
# SESLIB_LAUNCH holds the launcher's options; the python tools' own --nj jobs (enhance, score,
# dump_features) read it too, so every parallel job goes where this file says.
#
# Local machine, at most as many jobs at once as there are cores:
export SESLIB_LAUNCH="--backend local"
# A Slurm cluster (sbatch settings: the repository's conf/slurm.yaml, or a copy of it): each JOB=1:N
# becomes one sbatch job array,
#   export SESLIB_LAUNCH="--backend slurm --slurm-config $SESLIB_ROOT/conf/slurm.yaml"
# and training on allocated nodes (torchrun per node, rendezvous from Slurm):
#   ./run.sh --train-launcher \
#     "utils/launch.sh $SESLIB_LAUNCH --gpus 1 --nodes 2 exp/SYSTEM/slurm.log utils/slurm_torchrun.sh"
export train_cmd="utils/launch.sh $SESLIB_LAUNCH"
export decode_cmd="utils/launch.sh $SESLIB_LAUNCH"

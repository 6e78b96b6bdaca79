# How jobs are launched (Kaldi style). Every command is `$cmd JOB=1:N LOG COMMAND...`.
# Local machine, at most as many jobs at once as there are cores:
export train_cmd="utils/launch.sh --backend local"
export decode_cmd="utils/launch.sh --backend local"
# A cluster: add a Backend subclass to seslib/launcher.py (see its docstring) and name it here,
# e.g. export train_cmd="utils/launch.sh --backend slurm"

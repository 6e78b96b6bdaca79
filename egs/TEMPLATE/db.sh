# Where this recipe's corpus lives (read by local/data.sh). Set it here or in the environment.
CORPUS_ROOT=${CORPUS_ROOT:-/path/to/corpus}

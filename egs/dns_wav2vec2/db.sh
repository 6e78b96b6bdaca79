# Where the real corpora are (used by --corpus dns). Set them here or in the environment.
# DNS_ROOT: the DNS Challenge (Interspeech 2021) "datasets" dir, holding clean/ and noise/.
# LIBRISPEECH_ROOT: the dir holding LibriSpeech's test-clean/.
DNS_ROOT=${DNS_ROOT:-/path/to/DNS-Challenge/datasets}
LIBRISPEECH_ROOT=${LIBRISPEECH_ROOT:-/path/to/LibriSpeech}

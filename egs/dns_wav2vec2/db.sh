# Where the real corpora are (used by --corpus dns). Set them here or in the environment.
# DNS_ROOT: the folder the DNS Challenge data was downloaded into (holding datasets/ or
# datasets_fullband/; any release: local/dns_layouts.py), or that datasets dir itself.
# LIBRISPEECH_ROOT: the dir holding LibriSpeech's test-clean/.
DNS_ROOT=${DNS_ROOT:-/path/to/DNS-Challenge/datasets}
LIBRISPEECH_ROOT=${LIBRISPEECH_ROOT:-/path/to/LibriSpeech}

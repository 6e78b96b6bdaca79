# Where VoiceBank-DEMAND is (read by local/data.sh): the dir holding the unpacked
# clean_trainset_28spk_wav/, noisy_trainset_28spk_wav/, clean_testset_wav/, noisy_testset_wav/,
# trainset_28spk_txt/ and testset_txt/ (Edinburgh DataShare, doi:10.7488/ds/2117).
VBD_ROOT=${VBD_ROOT:-/path/to/VoiceBank-DEMAND}

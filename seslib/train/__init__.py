"""Training: the loop (:mod:`.trainer`), its crops (:mod:`.crops`), batches from DataLoader
workers (:mod:`.loader`), what resume restores (:mod:`.state`), and the offline teacher's
pre-training loop (:mod:`.teacher_pretrain`)."""

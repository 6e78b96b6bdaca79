"""Encoder and decoder pre-training (paper Sec. 2.5; Tables 2-3): losses against the equations
by hand, which parameters learn, the causal decoder of teacher embeddings, initialisation from
other checkpoints, and two steps of every mode on the tiny corpus."""
import math

import pytest
import torch

from seslib.bin import train
from seslib.checkpoint import gcrn_state, init_from, load_model
from seslib.models import GCRN
from seslib.models.resynth import TeacherResynth
from seslib.modes import get_mode
from seslib.teacher import Teacher
from seslib.train.trainer import Trainer

CH = [4, 6, 8, 8, 8]  # bottleneck 8 channels x 7 bins = 56
TINY = ["model.channels=[4,6,8,8,8]", "train.batch_size=2", "train.crop_seconds=0.5", "train.log_every=1",
        "train.valid_every=2", "train.ckpt_every=2", "train.valid_max_utts=2", "train.threads=1",
        "teacher.features=online"]
ENCODER = ("pretrain_enc_l1", "pretrain_enc_l2", "pretrain_enc_cos")


@pytest.fixture(scope="module")
def teacher(tiny_teacher_dir):
    return Teacher(str(tiny_teacher_dir), layers="all")


def test_encoder_losses_by_hand():
    pred = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    target = torch.tensor([[[0.0, 0.0], [3.0, 6.0]]])
    by_mode = {m: get_mode(m).distance(None, pred, target).item() for m in ENCODER}
    assert by_mode["pretrain_enc_l1"] == pytest.approx((1 + 2 + 0 + 2) / 4)
    assert by_mode["pretrain_enc_l2"] == pytest.approx((1 + 4 + 0 + 4) / 4)
    cos2 = (3 * 3 + 4 * 6) / (5 * math.sqrt(45))  # frame 1: a zero target has cosine 0
    assert by_mode["pretrain_enc_cos"] == pytest.approx(((1 - 0) + (1 - cos2)) / 2, abs=1e-6)


def _grads(model):
    return {n.split(".", 1)[0] for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}


@pytest.mark.parametrize("name", ENCODER)
def test_encoder_pretraining_trains_encoder_and_p_only(name, teacher):
    torch.manual_seed(0)
    model = GCRN(channels=CH, bridge=teacher.dim)
    mode = get_mode(name)(model, {}, teacher=teacher)
    noisy, clean = torch.randn(2, 4000) * 0.1, torch.randn(2, 4000) * 0.1
    loss, logs = mode(noisy, clean, {"clean_last": teacher(clean)[:, -1]})
    loss.backward()
    assert math.isfinite(loss.item()) and _grads(model) == {"encoder", "lstm", "to_teacher"}
    assert all(p.grad is None for p in teacher.parameters())
    assert not any(p.requires_grad for n, p in model.named_parameters() if n.startswith(("decoders", "out")))
    # the loss is the distance to the teacher's clean-speech embeddings, not to the noisy ones
    pred = mode.predict(noisy)
    assert loss.item() == pytest.approx(mode.distance(pred, teacher(clean)[:, -1][:, : pred.shape[1]]).item(), rel=1e-5)
    with pytest.raises(ValueError, match="bridge"):
        get_mode(name)(GCRN(channels=CH), {}, teacher=teacher)


def test_frozen_decoder_pretraining_keeps_the_encoder_and_its_statistics(teacher):
    torch.manual_seed(0)
    model = GCRN(channels=CH)
    mode = get_mode("pretrain_dec_frozen")(model, {})
    mode.train()
    stats = [b.clone() for n, b in model.named_buffers() if n.startswith("encoder")]
    loss, _ = mode(torch.randn(2, 4000) * 0.1, torch.randn(2, 4000) * 0.1)
    loss.backward()
    assert _grads(model) == {"decoders", "out"}
    assert all(torch.equal(a, b) for a, b in zip(stats, [b for n, b in model.named_buffers() if n.startswith("encoder")]))
    assert not model.encoder.training and model.decoders.training


def test_teacher_decoder_trains_m_and_decoders_and_is_causal(teacher):
    torch.manual_seed(0)
    model = GCRN(channels=CH, bridge=teacher.dim, skips="duplicate")
    mode = get_mode("pretrain_dec_teacher")(model, {}, teacher=teacher)
    clean = torch.randn(2, 4000) * 0.1
    loss, _ = mode(torch.randn(2, 4000), clean, {"clean_last": teacher(clean)[:, -1]})
    loss.backward()
    assert _grads(model) == {"from_teacher", "decoders", "out"}
    assert all(p.grad is None for p in teacher.parameters())
    assert not any(k.startswith("resynth") for k in mode.state_dict())  # the model is saved once
    # causal: embeddings from frame t on change no output sample before 320 t
    model.eval()
    g = torch.randn(1, 30, teacher.dim)
    with torch.no_grad():
        y = model.decode_teacher(g, 9600)
        for t in (5, 12, 20):
            g2 = g.clone()
            g2[:, t:] = torch.randn_like(g2[:, t:])
            y2 = model.decode_teacher(g2, 9600)
            assert torch.equal(y[:, : 320 * t], y2[:, : 320 * t]) and not torch.equal(y, y2)
    with pytest.raises(ValueError, match="skips: duplicate"):
        get_mode("pretrain_dec_teacher")(GCRN(channels=CH, bridge=teacher.dim), {}, teacher=teacher)


def test_duplicate_skips_pipeline_is_decoder_on_projected_encoder():
    """Reading (ii): noisy -> encoder -> P -> M -> decoder (no skips) equals decode_teacher(P(enc(x)))."""
    torch.manual_seed(0)
    model = GCRN(channels=CH, bridge=16, skips="duplicate").eval()
    x = torch.randn(1, 5000) * 0.1
    with torch.no_grad():
        assert torch.allclose(model(x), model.decode_teacher(model.to_teacher(model.encode(x)), 5000), atol=1e-6)
        # the encoder's skips are not read: only the bottleneck matters
        emb, ctx = model.encode(x, return_context=True)
        ctx["skips"] = [torch.randn_like(s) for s in ctx["skips"]]
        assert torch.allclose(model.decode(emb, ctx), model(x), atol=1e-6)


def _cfg(mode, teacher_dir, *sets):
    return train.load_config(None, TINY + [f"mode={mode}", f"teacher.spec={teacher_dir}"] + list(sets))


def test_pretraining_chain_on_the_tiny_corpus(corpus, tiny_teacher_dir, tmp_path):
    """Encoder -> decoders -> assembled pipeline -> fine-tuning, two steps each, with init."""
    run = lambda name, cfg: Trainer(cfg, corpus / "train", corpus / "valid", tmp_path / name).train()  # noqa: E731
    r = run("enc", _cfg("pretrain_enc_l1", tiny_teacher_dir, "model.bridge=teacher", "train.max_steps=2"))
    assert r["step"] == 2 and r["best"]["metric"] == "-loss" and r["best"]["score"] < 0
    enc = str(tmp_path / "enc" / "best.pt")
    r = run("frozen", _cfg("pretrain_dec_frozen", tiny_teacher_dir, "train.max_steps=2",
                           f"init=[{{checkpoint: {enc}, parts: [encoder, lstm]}}]"))
    assert math.isfinite(r["best"]["score"]) and r["best"]["metric"] == "SI-SDR (dB)"
    frozen, _ = gcrn_state(tmp_path / "frozen" / "last.pt")
    start, _ = gcrn_state(enc)
    assert all(torch.equal(frozen[k], start[k]) for k in start if k.startswith(("encoder", "lstm")))
    assert not all(torch.equal(frozen[k], start[k]) for k in start if k.startswith("decoders"))
    r = run("dec", _cfg("pretrain_dec_teacher", tiny_teacher_dir, "model.bridge=teacher", "model.skips=duplicate",
                        "train.max_steps=2", "train.keep_every=1"))
    snaps = sorted(p.name for p in (tmp_path / "dec" / "snapshots").iterdir())
    assert snaps == ["step1.pt", "step2.pt"]  # train.keep_every: the model of every step kept
    last, _ = gcrn_state(tmp_path / "dec" / "last.pt")
    assert all(torch.equal(v, gcrn_state(tmp_path / "dec" / "snapshots" / "step2.pt")[0][k]) for k, v in last.items())
    assert not all(torch.equal(v, gcrn_state(tmp_path / "dec" / "snapshots" / "step1.pt")[0][k]) for k, v in last.items())
    _decoder_curve(tmp_path, enc, corpus / "valid")
    resynth = load_model(tmp_path / "dec" / "best.pt")
    assert isinstance(resynth, TeacherResynth) and resynth.teacher is not None
    two = f"[{{checkpoint: {enc}, parts: [encoder, lstm, to_teacher]}}, " \
          f"{{checkpoint: {tmp_path / 'dec' / 'best.pt'}, parts: [from_teacher, decoders, out]}}]"
    r = run("pipe", train.load_config(None, TINY + ["mode=base", "model.bridge=teacher", "model.skips=duplicate",
                                                    "train.max_steps=0", f"init={two}"]))
    assert r["step"] == 0 and (tmp_path / "pipe" / "best.pt").is_file()  # assembled, validated, saved
    pipe = load_model(tmp_path / "pipe" / "best.pt")
    x = torch.randn(1, 4000) * 0.1
    with torch.no_grad():
        g = pipe.to_teacher(pipe.encode(x))
        assert torch.allclose(pipe(x), resynth.model.decode_teacher(g, 4000), atol=1e-5)
    # fine-tuning starts from the pre-trained weights: the trainer's model before its first step
    t = Trainer(train.load_config(None, TINY + ["mode=base", "model.bridge=teacher", "train.max_steps=2",
                                                f"init={two}"]), corpus / "train", corpus / "valid", tmp_path / "ft")
    own = t.model.state_dict()
    dec, _ = gcrn_state(tmp_path / "dec" / "best.pt")
    assert all(torch.equal(own[k], start[k]) for k in own if k.startswith(("encoder", "lstm", "to_teacher")))
    assert all(torch.equal(own[k], dec[k]) for k in own if k.startswith(("from_teacher", "decoders", "out")))
    assert t.model.config["skips"] == "encoder" and t.model.config["bridge"] == resynth.model.config["bridge"]
    assert t.train()["step"] == 2


def _decoder_curve(tmp_path, enc, data_dir):
    """seslib.bin.decoder_curve on the two snapshots: reading (ii) of a snapshot is the assembled pipeline
    (the encoder's encoder, LSTM and P, the snapshot's M and decoders), each point is scored by the real
    recognisers, and a rerun scores nothing again."""
    import json

    from seslib.analysis import decoder_curve as dc
    from seslib.bin import decoder_curve
    snap = tmp_path / "dec" / "snapshots" / "step2.pt"
    mods = dc.models(snap, enc, load_model(snap).teacher)
    enc_state, dec_state = gcrn_state(enc)[0], gcrn_state(snap)[0]
    own = mods["ii"].state_dict()
    assert all(torch.equal(own[k], enc_state[k]) for k in own if k.startswith(("encoder", "lstm", "to_teacher")))
    assert all(torch.equal(own[k], dec_state[k]) for k in own if k.startswith(("from_teacher", "decoders", "out")))
    out = tmp_path / "curve"
    args = ["--snapshots", str(tmp_path / "dec" / "snapshots"), "--encoder", enc, "--data-dir", str(data_dir),
            "--utts", "2", "--out", str(out)]
    assert decoder_curve.main(args) == 0
    curve = json.loads((out / "curve.json").read_text())
    assert sorted(curve["points"]) == ["1", "2"] and len(curve["meta"]["utterances"]) == 2
    for pt in curve["points"].values():
        assert set(pt) == {"i", "ii"} and all(v["utterances"] == 2 and v["words"] > 0 and v["phones"] > 0
                                               and v["wer"] >= 0 for v in pt.values())
    assert (out / "curve.png").stat().st_size > 0
    stamp = (out / "step1.json").stat().st_mtime_ns
    assert decoder_curve.main(args) == 0 and (out / "step1.json").stat().st_mtime_ns == stamp
    assert decoder_curve.main(args[:-1] + [str(tmp_path / "none"), "--snapshots", str(tmp_path)]) == 1


def test_frozen_decoder_fed_the_projection(corpus, tiny_teacher_dir, tmp_path):
    """reads: projection: the decoders read M(P(f_enc(X))); encoder, LSTM and P stay the encoder
    pre-training's, M and the decoders learn; the bottleneck reading refuses a bridge and vice versa."""
    run = lambda name, cfg: Trainer(cfg, corpus / "train", corpus / "valid", tmp_path / name).train()  # noqa: E731
    run("enc", _cfg("pretrain_enc_l1", tiny_teacher_dir, "model.bridge=teacher", "train.max_steps=1"))
    enc = str(tmp_path / "enc" / "best.pt")
    init = f"init=[{{checkpoint: {enc}, parts: [encoder, lstm, to_teacher]}}]"
    cfg = _cfg("pretrain_dec_frozen", tiny_teacher_dir, "train.max_steps=2", "model.bridge=teacher",
               "mode_options.reads=projection", init)
    t = Trainer(cfg, corpus / "train", corpus / "valid", tmp_path / "p")
    m_before = t.model.from_teacher.weight.detach().clone()
    assert t.train()["step"] == 2
    after, start = gcrn_state(tmp_path / "p" / "last.pt")[0], gcrn_state(enc)[0]
    assert all(torch.equal(after[k], start[k]) for k in start if k.startswith(("encoder", "lstm", "to_teacher")))
    assert not torch.equal(after["from_teacher.weight"], m_before)
    assert not all(torch.equal(after[k], v) for k, v in start.items() if k.startswith("decoders"))
    model = load_model(tmp_path / "p" / "best.pt")
    x = 0.1 * torch.randn(1, 4000)
    with torch.no_grad():  # the decoders read M(P(bottleneck)): changing M changes the output
        y = model(x)
        model.from_teacher.weight.mul_(2)
        assert not torch.allclose(model(x), y)
    with pytest.raises(ValueError, match="reads: projection needs model.bridge"):
        Trainer(_cfg("pretrain_dec_frozen", tiny_teacher_dir, "mode_options.reads=projection"),
                corpus / "train", corpus / "valid", tmp_path / "x")
    with pytest.raises(ValueError, match="reads must be one of"):
        Trainer(_cfg("pretrain_dec_frozen", tiny_teacher_dir, "mode_options.reads=both"),
                corpus / "train", corpus / "valid", tmp_path / "y")


def test_init_refuses_what_does_not_fit(tmp_path):
    torch.manual_seed(0)
    src = GCRN(channels=CH)
    torch.save({"mode": {f"model.{k}": v for k, v in src.state_dict().items()}, "model_config": src.config},
               tmp_path / "a.pt")
    with pytest.raises(ValueError, match="no part 'to_teacher'"):
        init_from(GCRN(channels=CH), [{"checkpoint": str(tmp_path / "a.pt"), "parts": ["to_teacher"]}])
    with pytest.raises(ValueError, match=r"a\.pt cannot give part 'to_teacher'"):
        init_from(GCRN(channels=CH, bridge=4), [{"checkpoint": str(tmp_path / "a.pt"), "parts": ["to_teacher"]}])
    with pytest.raises(ValueError, match="cannot give part 'encoder'"):
        init_from(GCRN(channels=[4, 6, 8, 8, 16]), [{"checkpoint": str(tmp_path / "a.pt"), "parts": ["encoder"]}])
    with pytest.raises(FileNotFoundError, match="train that system first"):
        init_from(GCRN(channels=CH), [{"checkpoint": str(tmp_path / "none.pt"), "parts": ["encoder"]}])
    dst = GCRN(channels=CH)
    assert init_from(dst, [{"checkpoint": str(tmp_path / "a.pt"), "parts": ["lstm"]}]) == [f"lstm from {tmp_path / 'a.pt'}"]
    assert all(torch.equal(dst.state_dict()[k], v) for k, v in src.state_dict().items() if k.startswith("lstm"))
    assert not torch.equal(dst.out[0].weight, src.out[0].weight)


def test_compressed_spectral_loss_by_hand():
    from seslib import stft
    from seslib.losses import compressed_spectral
    torch.manual_seed(0)
    y = torch.randn(2, 3000)
    n = stft.padded_length(3000)
    p = stft.stft(torch.nn.functional.pad(y, (0, n - 3000))).abs().pow(0.6).mean().item()  # mean |S|^(2c)
    assert compressed_spectral(y, y).item() == pytest.approx(0.0, abs=1e-6)
    assert compressed_spectral(2 * y, y).item() == pytest.approx((2 ** 0.3 - 1) ** 2 * p, rel=1e-3)
    # a sign flip keeps every magnitude: only the complex term (weight 0.3) sees it, |2 |S|^c|^2
    assert compressed_spectral(-y, y).item() == pytest.approx(0.3 * 4 * p, rel=1e-3)
    assert compressed_spectral(torch.zeros_like(y), y).item() == pytest.approx(p, rel=1e-2)  # (eps^0.3 = 0.004)


def test_multires_stft_loss_by_hand():
    """Per resolution, spectral convergence ||S - S^||/||S|| + mean |log S - log S^|, averaged: twice the
    reference gives 1 + ln 2 (not 0.5 + ln 2: the reference is the denominator); a sign flip, which keeps
    every magnitude, gives 0, as do equal signals."""
    from seslib.losses import multires_stft
    torch.manual_seed(0)
    y = 0.1 * torch.randn(2, 16000)
    assert multires_stft(y, y).item() == pytest.approx(0.0, abs=1e-6)
    assert multires_stft(-y, y).item() == pytest.approx(0.0, abs=1e-5)
    assert multires_stft(2 * y, y).item() == pytest.approx(1 + math.log(2), rel=1e-4)
    assert multires_stft(y, 2 * y).item() == pytest.approx(0.5 + math.log(2), rel=1e-4)


@pytest.mark.parametrize("name", ENCODER[1:])  # pretrain_enc_l1 trains in the chain above
def test_other_encoder_losses_train_two_steps(name, corpus, tiny_teacher_dir, tmp_path):
    r = Trainer(_cfg(name, tiny_teacher_dir, "model.bridge=teacher", "train.max_steps=2"), corpus / "train",
                corpus / "valid", tmp_path).train()
    assert r["step"] == 2 and math.isfinite(r["best"]["score"]) and r["best"]["metric"] == "-loss"
    log = (tmp_path / "train.log").read_text()
    assert log.count(" loss ") == 2 and "features online clean_last" in log

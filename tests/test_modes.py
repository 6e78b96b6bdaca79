"""Every Table 1 mode: gradients reach what they should (and never the teacher), two
training steps with a tiny teacher give finite losses and a loadable model, adversarial
training resumes exactly, dumped and online features both train."""
import math

import pytest
import torch

from seslib.bin import train
from seslib.checkpoint import load_model
from seslib.models import GCRN
from seslib.models.concat import ConcatGCRN
from seslib.modes import MODES, get_mode
from seslib.teacher import Teacher
from seslib.train.trainer import Trainer

TABLE1 = ["base", "concat", "concat_ws", "distill_embed", "distill_embed_ws", "distill_output",
          "adversarial", "adversarial_ws", "triplet", "triplet_ws"]
TINY = ["model.channels=[4,6,8,8,8]", "train.batch_size=2", "train.crop_seconds=0.5", "train.log_every=1",
        "train.valid_every=2", "train.ckpt_every=2", "train.valid_max_utts=2", "train.threads=1"]


def _cfg(mode, corpus, teacher_dir, *sets):
    return train.load_config(None, TINY + [f"mode={mode}", f"teacher.spec={teacher_dir}",
                                           f"teacher.dump_dir={corpus / 'dump'}"] + list(sets))


def test_registry_is_table_1_the_pretraining_and_the_student():
    assert sorted(MODES) == sorted(TABLE1 + ["pretrain_enc_l1", "pretrain_enc_l2", "pretrain_enc_cos",
                                             "pretrain_dec_frozen", "pretrain_dec_teacher", "distill_student"])
    for name in TABLE1:
        doc = get_mode(name).__doc__
        assert "L_E" in doc or "Sec." in doc, name


@pytest.mark.parametrize("name", TABLE1[1:])
def test_gradients_reach_the_student_and_never_the_teacher(name, tiny_teacher_dir):
    torch.manual_seed(0)
    teacher = Teacher(str(tiny_teacher_dir), layers="all")
    model = GCRN(channels=[4, 6, 8, 8, 8])
    mode = get_mode(name)(model, {}, teacher=teacher)
    noisy, clean = torch.randn(2, 4000) * 0.1, torch.randn(2, 4000) * 0.1
    with torch.no_grad():
        feats = {"noisy_last": teacher(noisy)[:, -1], "noisy_all": teacher(noisy),
                 "clean_last": teacher(clean)[:, -1], "clean_all": teacher(clean)}
    loss, logs = mode(noisy, clean, {k: feats[k] for k in mode.streams()})
    assert torch.isfinite(loss) and all(math.isfinite(v) for v in logs.values())
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters()), "GCRN"
    assert all(p.grad is None for p in teacher.parameters()), "teacher"
    assert not any(n.startswith("teacher") for n in mode.state_dict()), "teacher weights are not saved"
    for sub in ("proj", "enhancer"):
        if hasattr(mode, sub):
            assert all(p.grad is not None for p in getattr(mode, sub).parameters()), sub
    if name == "concat_ws":
        assert mode.enhancer.mix.logits.grad.abs().sum() > 0  # input layer weights are learned
    if name.endswith("_ws") and name != "concat_ws":
        assert not any(p is mode.target_mix.logits for p in mode.parameters())  # target weights are fixed
    if name.startswith("adversarial"):
        before = [p.detach().clone() for p in mode.disc.parameters()]
        d_logs = mode.after_step()
        assert math.isfinite(d_logs["d_loss"])
        assert any(not torch.equal(a, b) for a, b in zip(before, mode.disc.parameters()))


@pytest.mark.parametrize("name", TABLE1)
def test_two_steps_on_a_tiny_corpus(name, corpus, tiny_teacher_dir, tmp_path):
    out = tmp_path / name
    r = Trainer(_cfg(name, corpus, tiny_teacher_dir, "train.max_steps=2"), corpus / "train", corpus / "valid",
                out).train()
    assert r["step"] == 2 and math.isfinite(r["best"]["score"])
    log = (out / "train.log").read_text()
    losses = [float(line.split(" loss ")[1].split()[0]) for line in log.splitlines() if " loss " in line]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
    model = load_model(out / "best.pt")
    assert isinstance(model, ConcatGCRN) == name.startswith("concat")
    with torch.no_grad():
        y = model(torch.randn(1, 5000) * 0.1)
    assert y.shape == (1, 5000) and torch.isfinite(y).all()


def test_adversarial_resume_restores_both_optimisers(corpus, tiny_teacher_dir, tmp_path):
    cfg = lambda n: _cfg("adversarial_ws", corpus, tiny_teacher_dir, f"train.max_steps={n}")  # noqa: E731
    Trainer(cfg(4), corpus / "train", corpus / "valid", tmp_path / "straight").train()
    Trainer(cfg(2), corpus / "train", corpus / "valid", tmp_path / "split").train()
    Trainer(cfg(4), corpus / "train", corpus / "valid", tmp_path / "split").train()
    a, b = (torch.load(tmp_path / d / "last.pt", weights_only=False) for d in ("straight", "split"))
    assert a["mode"].keys() == b["mode"].keys() and any(k.startswith("disc.") for k in a["mode"])
    assert all(torch.equal(a["mode"][k], b["mode"][k]) for k in a["mode"])
    da, db = a["extra_optimizers"]["discriminator"]["state"], b["extra_optimizers"]["discriminator"]["state"]
    assert da and all(torch.equal(da[i]["exp_avg"], db[i]["exp_avg"]) for i in da)


def test_online_features_train_and_bad_teacher_configs(corpus, tiny_teacher_dir, tmp_path):
    r = Trainer(_cfg("triplet", corpus, tiny_teacher_dir, "train.max_steps=2", "teacher.features=online",
                     "teacher.dump_dir=null"), corpus / "train", corpus / "valid", tmp_path / "online").train()
    assert r["step"] == 2
    with pytest.raises(ValueError, match="needs a teacher"):
        Trainer(train.load_config(None, TINY + ["mode=distill_embed"]), corpus / "train", corpus / "valid",
                tmp_path / "x")
    with pytest.raises(ValueError, match="mode triplet has no such option"):
        Trainer(_cfg("triplet", corpus, tiny_teacher_dir, "mode_options={margn: 3}"), corpus / "train",
                corpus / "valid", tmp_path / "y")
    with pytest.raises(FileNotFoundError, match="dump"):
        Trainer(_cfg("concat", corpus, tiny_teacher_dir, f"teacher.dump_dir={tmp_path / 'none'}"),
                corpus / "train", corpus / "valid", tmp_path / "z")


def test_concat_checkpoint_enhances_but_does_not_stream(corpus, tiny_teacher_dir, tmp_path, caplog):
    from seslib.bin import enhance
    out = tmp_path / "c"
    Trainer(_cfg("concat", corpus, tiny_teacher_dir, "train.max_steps=2"), corpus / "train", corpus / "valid",
            out).train()
    wav = sorted((corpus / "train").rglob("*.wav"))[0]
    assert enhance.main(["--model", str(out / "best.pt"), "--teacher", str(tiny_teacher_dir), str(wav),
                         str(tmp_path / "y.wav")]) == 0
    assert (tmp_path / "y.wav").is_file()
    assert enhance.main(["--model", str(out / "best.pt"), "--streaming", str(wav), str(tmp_path / "z.wav")]) == 1
    assert "cannot stream" in caplog.text and not (tmp_path / "z.wav").exists()


def test_triplet_loss_and_active_fraction_by_hand():
    """Frames with (d_ap, d_an) = (3, 5), (5, 1): margin 1 gives hinges (-1, 5): L_T = (0 + 5) / 2 = 2.5,
    one active frame of two; margin 10 makes both active: L_T = (8 + 14) / 2 = 11."""
    from seslib.modes.triplet import Triplet
    a = torch.zeros(1, 2, 2)
    p = torch.tensor([[[3.0, 0.0], [0.0, 5.0]]])   # |a - p| = 3, 5
    n = torch.tensor([[[0.0, 5.0], [1.0, 0.0]]])   # |a - n| = 5, 1

    class Fixed(Triplet):
        def __init__(self, margin):  # the distance part of Triplet.loss on fixed frames, without a GCRN
            torch.nn.Module.__init__(self)
            self.options = {"margin": margin, "weight": 1.0}
            self.proj = torch.nn.Identity()
            self.model = type("M", (), {"encode": lambda s, x, return_context: (a, None),
                                        "decode": lambda s, e, c: x_clean})()

        def target(self, feats, which):
            return p if which == "clean" else n

    x_clean = torch.randn(1, 640)
    for margin, lt, active in ((1.0, 2.5, 0.5), (10.0, 11.0, 1.0)):
        loss, logs = Fixed(margin).loss(x_clean, x_clean)
        assert logs["triplet"].item() == pytest.approx(lt) and logs["active"].item() == pytest.approx(active)
        assert logs["d_ap"].item() == pytest.approx(4.0) and logs["d_an"].item() == pytest.approx(3.0)


def test_triplet_margin_statistics_by_hand_and_cli(corpus, tiny_teacher_dir, tmp_path):
    """d = 1, 2, 3, 4: median 2.5, quartiles 1.75 / 3.25; at m = 3 the hinge stays active (d < m) on
    frames 1 and 2, at m = 100 on all four. The CLI's distances are the teacher's own on clean and noisy."""
    import json

    import numpy as np

    from seslib import audio
    from seslib.bin import triplet_margin
    from seslib.data import read_kv
    s = triplet_margin.margin_statistics([4.0, 1.0, 3.0, 2.0], [3, 100])
    assert (s["frames"], s["median"], s["q1"], s["q3"]) == (4, 2.5, 1.75, 3.25)
    assert s["active_at_anchor_p"] == {"3": 0.5, "100": 1.0}
    with pytest.raises(ValueError):
        triplet_margin.margin_statistics([], [1])
    out = tmp_path / "m.json"
    assert triplet_margin.main(["--data-dir", str(corpus / "train"), "--teacher", str(tiny_teacher_dir),
                                "--max-utts", "2", "--margins", "0", "1e9", "--out", str(out), "--quiet"]) == 0
    r = json.loads(out.read_text())
    assert r["utterances"] == 2 and r["active_at_anchor_p"] == {"0": 0.0, "1e+09": 1.0}
    t = Teacher(str(tiny_teacher_dir))
    utts = sorted(read_kv(corpus / "train" / "spk1.scp"))[:2]
    d = []
    for u in utts:
        y = torch.from_numpy(audio.read_audio(read_kv(corpus / "train" / "spk1.scp")[u]))
        x = torch.from_numpy(audio.read_audio(read_kv(corpus / "train" / "wav.scp")[u]))
        with torch.no_grad():
            d.append((t(y[None])[0] - t(x[None])[0]).norm(dim=-1).numpy())
    d = np.concatenate(d)
    assert r["frames"] == len(d) and r["median"] == pytest.approx(float(np.median(d)), rel=1e-5)
    assert r["median"] > 0
    assert triplet_margin.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "x.json"), "--quiet"]) == 1
    assert not (tmp_path / "x.json").exists()

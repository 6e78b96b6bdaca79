"""utils/parse_options.sh: --foo-bar sets foo_bar, unknown options rejected, --config, booleans."""
import subprocess

from conftest import ROOT

SCRIPT = """
foo_bar=default
flag=false
nj=1
help_message="usage: demo"
. {root}/utils/parse_options.sh
echo "foo_bar=$foo_bar flag=$flag nj=$nj rest=$*"
"""


def _run(tmp_path, *args):
    s = tmp_path / "demo.sh"
    s.write_text(SCRIPT.format(root=ROOT))
    return subprocess.run(["bash", str(s), *args], capture_output=True, text=True)


def test_sets_variables(tmp_path):
    r = _run(tmp_path, "--foo-bar", "x y", "--flag", "true", "--nj=4", "pos1", "pos2")
    assert r.returncode == 0
    assert r.stdout.strip() == "foo_bar=x y flag=true nj=4 rest=pos1 pos2"


def test_unknown_option_rejected(tmp_path):
    r = _run(tmp_path, "--no-such-thing", "1")
    assert r.returncode != 0 and "unknown option --no-such-thing" in r.stderr


def test_boolean_takes_only_true_false(tmp_path):
    r = _run(tmp_path, "--flag", "yes")
    assert r.returncode != 0 and "takes true or false" in r.stderr


def test_missing_value(tmp_path):
    r = _run(tmp_path, "--nj")
    assert r.returncode != 0 and "needs a value" in r.stderr


def test_config_file_then_override(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("nj=8\nfoo_bar=fromconf\n")
    r = _run(tmp_path, "--config", str(conf), "--nj", "3")
    assert r.stdout.strip() == "foo_bar=fromconf flag=false nj=3 rest="
    r = _run(tmp_path, "--config", str(tmp_path / "missing.conf"))
    assert r.returncode != 0 and "not found" in r.stderr


def test_help_on_stdout(tmp_path):
    r = _run(tmp_path, "--help")
    assert r.returncode == 0 and r.stdout.strip() == "usage: demo" and r.stderr == ""


def test_true_false_auto_options(tmp_path):
    s = tmp_path / "demo.sh"
    s.write_text(f"analysis=auto\nbool_auto_options=analysis\n. {ROOT}/utils/parse_options.sh\necho $analysis\n")
    for v in ("true", "false", "auto"):
        r = subprocess.run(["bash", str(s), "--analysis", v], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.strip() == v
    r = subprocess.run(["bash", str(s), "--analysis", "maybe"], capture_output=True, text=True)
    assert r.returncode == 1 and "--analysis takes true, false or auto, not 'maybe'" in r.stderr


def test_choice_options_take_only_their_choices(tmp_path):
    s = tmp_path / "choice.sh"
    s.write_text(f'store=float32\nchoice_options="store=float32|two-byte"\n. {ROOT}/utils/parse_options.sh\necho "$store"\n')
    ok = subprocess.run(["bash", str(s), "--store", "two-byte"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == "two-byte"
    for bad in ("two", "float32|two-byte", "half"):  # a part of a choice, the list itself, another word
        r = subprocess.run(["bash", str(s), "--store", bad], capture_output=True, text=True)
        assert r.returncode == 1 and f"--store takes float32|two-byte, not '{bad}'" in r.stderr

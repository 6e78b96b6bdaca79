"""Where each DNS Challenge release keeps its clean read speech, its noise and its test set.

The releases (microsoft/DNS-Challenge; the layouts the download scripts and branches leave):

| layout | clean read speech | noise | rate |
|---|---|---|---|
| ``2020`` (Interspeech 2020) | ``datasets/clean/*.wav`` (flat) | ``datasets/noise`` | 16 kHz |
| ``wideband`` (DNS 3, tarballs) | ``datasets/clean/read_speech`` | ``datasets/noise`` | 16 kHz |
| ``lfs`` (DNS 3, git LFS) | ``datasets/wideband/clean_wideband/read_speech`` | ``datasets/wideband/noise_wideband`` | 16 kHz |
| ``fullband`` (DNS 3 full band, DNS 4, DNS 5) | ``datasets_fullband/clean_fullband/read_speech`` | ``datasets_fullband/noise_fullband`` | 48 kHz |

``DNS_ROOT`` is the folder the user downloaded into (holding ``datasets/`` or
``datasets_fullband/``), or one of those folders itself. Beside ``read_speech`` the later
releases keep other languages, singing and emotional speech: only read speech is used unless
other folders are named. The 2020 release's synthetic test set
(``datasets/test_set/synthetic/no_reverb/{clean,noisy}``) holds noisy/clean pairs, whose
difference is the test noise the paper's "from the test sets" reads as.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    name: str
    clean: tuple[str, ...]   # the clean speech dir, relative to DNS_ROOT (each candidate)
    noise: tuple[str, ...]   # the noise dir, likewise
    rate: int


_DS, _FB = ("datasets/", ""), ("datasets_fullband/", "")
LAYOUTS = (
    Layout("fullband", tuple(p + "clean_fullband" for p in _FB), tuple(p + "noise_fullband" for p in _FB), 48000),
    Layout("lfs", tuple(p + "wideband/clean_wideband" for p in _DS), tuple(p + "wideband/noise_wideband" for p in _DS),
           16000),
    Layout("wideband", tuple(p + "clean" for p in _DS), tuple(p + "noise" for p in _DS), 16000),
)
TEST_SETS = tuple(p + "test_set/synthetic/no_reverb" for p in _DS)


@dataclass
class Found:
    """A release found under DNS_ROOT: its layout name, clean speech dirs, noise dir, test-set dir."""
    layout: str
    clean_dirs: list[Path]
    noise_dir: Path
    test_set: Path | None


def find(root: Path, clean_dir: str | None = None, noise_dir: str | None = None,
         subdirs=()) -> Found:
    """The release under ``root``, or the dirs given (``--dns-clean-dir``, ``--dns-noise-dir``).

    Read speech only: ``read_speech`` where the clean dir has one (DNS 3-5), the clean dir itself
    where it has none (2020, flat); ``subdirs`` names other folders of the clean dir instead.

    Raises:
        FileNotFoundError: listing every path looked for.
    """
    root = Path(root)
    looked = []
    layout, clean, noise = None, Path(clean_dir) if clean_dir else None, Path(noise_dir) if noise_dir else None
    if clean is None or noise is None:
        for lay in LAYOUTS:
            cands = [(root / c, root / n) for c, n in zip(lay.clean, lay.noise)]
            looked += [str(p) for c in cands for p in c]
            hit = next(((c, n) for c, n in cands if c.is_dir()), None)
            if hit:
                layout = lay.name
                clean, noise = clean or hit[0], noise or hit[1]
                break
    for given, opt in ((clean_dir, "--dns-clean-dir"), (noise_dir, "--dns-noise-dir")):
        if given and not Path(given).is_dir():
            raise FileNotFoundError(f"{opt} {given} does not exist")
    if clean is None or noise is None or not noise.is_dir():
        raise FileNotFoundError("no DNS release found: looked for " + ", ".join(dict.fromkeys(looked))
                                + " (set DNS_ROOT in db.sh to the folder the DNS data was downloaded into, "
                                  "or give --dns-clean-dir and --dns-noise-dir)")
    if subdirs:
        dirs = [clean / s for s in subdirs]
    elif (clean / "read_speech").is_dir():
        dirs = [clean / "read_speech"]
    else:
        dirs, layout = [clean], ("2020" if layout == "wideband" else layout)
    for d in dirs:
        if not d.is_dir():
            raise FileNotFoundError(f"{d} does not exist")
    test_set = next((root / t for t in TEST_SETS if (root / t / "clean").is_dir() and (root / t / "noisy").is_dir()),
                    None)
    return Found(layout or "given", dirs, noise, test_set)

"""seslib's layers (docs/design.md): imports only go down, and no modules import each other in a
circle. Read from the source with ast (every import, also those inside functions)."""
import ast
from pathlib import Path

from conftest import ROOT

#: layer of each module, by the longest matching prefix; higher layers may import lower ones
LAYERS = {
    "seslib.bin": 6,
    "seslib.recipe": 5,
    "seslib.train": 4,
    **{f"seslib.{m}": 3 for m in ("modes", "models", "teacher", "features", "dynamic_mix", "augment", "config",
                                  "checkpoint", "export", "peers", "asr", "asr_sphinx", "dnsmos", "analysis", "synth",
                                  "metrics", "score_inputs")},
    **{f"seslib.{m}": 2 for m in ("data", "mixing", "premixed", "audio", "stft", "losses", "engine")},
    **{f"seslib.{m}": 1 for m in ("stages", "stage_record", "launcher", "slurm", "progress", "fileutil", "logutil",
                                  "provenance")},
    "seslib": 0,
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the seslib modules it imports (a package's ``__init__`` counts as the package)."""
    files = {_module(p): p for p in (ROOT / "seslib").rglob("*.py")}
    graph = {}
    for m, p in files.items():
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = pkg.split(".")[:len(pkg.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                names = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            deps |= {n for n in names if n in files and n != m and n != "seslib"}
        graph[m] = deps
    return graph


def layer(module: str) -> int:
    best = max((k for k in LAYERS if module == k or module.startswith(k + ".")), key=len)
    return LAYERS[best]


def test_every_module_has_a_layer():
    unknown = [m for m in import_graph() if m != "seslib" and layer(m) == 0]
    assert not unknown, f"modules with no layer in tests/test_layers.py (and docs/design.md): {unknown}"


def test_imports_only_go_down():
    up = [(m, d) for m, deps in import_graph().items() for d in deps if layer(d) > layer(m)]
    assert not up, f"imports that climb the layers: {up}"


def test_no_import_cycles():
    graph = import_graph()
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))
    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"modules that import each other in a circle: {cycles}"


def test_the_reader_finds_imports_inside_functions():
    """The graph reader finds relative imports inside functions (as launcher -> slurm was)."""
    graph = import_graph()
    assert "seslib.slurm" in graph["seslib.launcher"]  # imported inside a function
    assert "seslib.train.crops" in graph["seslib.train.teacher_pretrain"]
    assert layer("seslib.recipe.plan") > layer("seslib.train.trainer") > layer("seslib.modes.base") > layer("seslib.audio")


def test_every_relative_import_resolves():
    """A module moved between packages keeps no import of a neighbour it no longer has (pyflakes
    does not look, and an import inside a function fails only when it runs)."""
    import importlib
    import importlib.util
    bad = []
    for p in (ROOT / "seslib").rglob("*.py"):
        m = _module(p)
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(p.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            target = ".".join(pkg.split(".")[:len(pkg.split(".")) - node.level + 1] + ([node.module] if node.module else []))
            if importlib.util.find_spec(target) is None:
                bad.append(f"{p.relative_to(ROOT)}:{node.lineno}: {target}")
            elif not node.module:
                bad += [f"{p.relative_to(ROOT)}:{node.lineno}: {target}.{a.name}" for a in node.names
                        if importlib.util.find_spec(f"{target}.{a.name}") is None
                        and not hasattr(importlib.import_module(target), a.name)]
    assert not bad, f"relative imports of modules that do not exist: {bad}"

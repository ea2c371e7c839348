"""Dependencies run one way (CONTRIBUTING.md, "Layout"), checked on the import statements of every file; the package
stays within its line budget (CONTRIBUTING.md, "Rules")."""
import ast
from pathlib import Path
from typing import Iterator, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]


def imports(folder: str) -> Iterator[Tuple[str, str]]:
    """``(file, imported module)`` of every absolute import under ``folder`` (relative imports stay inside)."""
    for path in sorted((REPO / folder).rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            yield from ((str(path.relative_to(REPO)), name) for name in names)


@pytest.mark.parametrize('folder, forbidden', [
    ('lmim_mm', ('tools', 'benchmarks', 'tests', 'lmim_reference', 'lmim_synth')),
    ('lmim_mm/models', ('lmim_mm.deploy', 'lmim_mm.converters')),
    ('lmim_mm/datasets', ('lmim_mm.evaluation', )),
    ('lmim_reference', ('tools', 'benchmarks', 'tests', 'lmim_synth')),
    ('lmim_synth', ('tools', 'benchmarks', 'tests', 'lmim_reference')),
    ('tools', ('tests', 'benchmarks', 'tools')),  # a script imports no other script
    ('benchmarks', ('tests', 'tools')),
])
def test_imports_run_one_way(folder, forbidden):
    wrong = [(path, name) for path, name in imports(folder) if name.split('.')[0] in forbidden or
             any(name == f or name.startswith(f + '.') for f in forbidden)]
    assert not wrong, wrong


@pytest.mark.parametrize('folder', ['tools', 'benchmarks'])
def test_scripts_leave_sys_path_alone(folder):
    edits = [str(path.relative_to(REPO)) for path in (REPO / folder).rglob('*.py')
             if 'sys.path' in path.read_text(encoding='utf-8')]
    assert not edits, edits


def test_package_within_line_budget():
    lines = {str(path.relative_to(REPO)): len(path.read_text(encoding='utf-8').splitlines())
             for path in (REPO / 'lmim_mm').rglob('*.py')}
    assert sum(lines.values()) <= 5800, sorted(lines.items(), key=lambda item: -item[1])[:10]

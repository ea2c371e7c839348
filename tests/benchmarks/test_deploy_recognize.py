"""benchmarks/deploy_recognize.py: every case loads alone and reads the same words as PyTorch (quick sizes)."""
import pytest

from benchmarks.deploy_cases import CASES, Workspace
from benchmarks.deploy_recognize import peak_memories, prepare_workspace, waics
from benchmarks.harness import QUICK


@pytest.fixture(scope='module')
def workspace(tmp_path_factory, real_data_dir):
    return prepare_workspace(tmp_path_factory.mktemp('deploy'), real_data_dir / 'iiit5k_test' / 'IMG', QUICK, 4)


def test_cases_read_what_pytorch_reads(workspace, real_data_dir):
    words = {case: workspace.case(case, 4, 1)(4) for case in CASES}
    assert all(len(w) == 4 for w in words.values())
    for decoding in ('greedy', 'beam5'):
        assert words[f'onnx_{decoding}'] == words[f'pytorch_{decoding}']
    labels = [(real_data_dir / 'iiit5k_test' / 'label' / f'{i}.txt').read_text().strip() for i in range(1, 5)]
    assert waics(words['ppocrv4'], labels) >= 0.5  # the production model reads real words
    assert waics(labels, labels) == 1.0 and waics(['x'] * 4, labels) == 0.0


def test_workspace_reloads_from_its_folder(workspace):
    again = Workspace(workspace.folder)
    assert again.settings == workspace.settings and again.files == workspace.files and len(again.files) == 4


def test_peak_memory_of_the_runtimes_without_pytorch(workspace):
    peaks = peak_memories(workspace.folder, ['onnx_greedy', 'ppocrv4'], 4, 1)
    assert all(10 < peak < 1000 for peak in peaks.values()), peaks  # PyTorch alone takes more

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


def run_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / 'tools' / 'check_parity.py'), str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize('name,kind', [('lmim_pretrain_seed0.pt', 'pretrain'),
                                       ('lmim_recognizer_seed0.pt', 'recognizer')])
def test_shipped_fixtures_are_ok(fixtures_dir, name, kind):
    proc = run_check(fixtures_dir / name)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['ok'] is True and result['kind'] == kind
    assert all(e['max_abs_err'] <= e['tol'] for e in result['errors'].values())


def test_tampered_fixture_fails(fixtures_dir, tmp_path):
    fixture = torch.load(fixtures_dir / 'lmim_recognizer_seed0.pt', weights_only=True)
    fixture['expected']['train_logits'] = fixture['expected']['train_logits'] + 1e-3
    path = tmp_path / 'tampered.pt'
    torch.save(fixture, path)
    proc = run_check(path)
    assert proc.returncode == 1
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['ok'] is False and result['errors']['train_logits']['max_abs_err'] > 1e-4


def test_unknown_fixture_is_a_clear_error(tmp_path):
    path = tmp_path / 'other.pt'
    torch.save({'weights': torch.zeros(1)}, path)
    proc = run_check(path)
    assert proc.returncode != 0 and 'not a pretraining or recognizer fixture' in proc.stderr

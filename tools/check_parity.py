"""Check lmim_mm against a fixture made with the authors' implementation.

Usage: python tools/check_parity.py FIXTURE.pt

The fixture kind (pretraining or recognizer) is detected from its keys (format:
``../shared/fixtures/README.md``). Prints one JSON line ``{"fixture", "kind", "errors": {name:
{"max_abs_err", "tol"}}, "ok"}`` and exits with status 1 when any error exceeds its tolerance
(1e-5 on losses, 1e-4 on tensors, exact on greedy ids).
"""
import argparse
import json
import sys
from typing import Callable, Dict

from lmim_mm.utils.checkpoint import torch_load
from lmim_reference.parity_pretrain import check_pretrain_fixture
from lmim_reference.parity_recognizer import check_recognizer_fixture

#: fixture kind -> (keys that identify it, checker)
KINDS: Dict[str, tuple] = {
    'pretrain': ({'official_state_dict', 'imgs', 'imgs_guidance', 'mask', 'expected'}, check_pretrain_fixture),
    'recognizer': ({'official_state_dict', 'encoder_config', 'decoder_config', 'imgs', 'labels', 'expected'},
                   check_recognizer_fixture),
}


def detect_kind(fixture: dict, path: str) -> str:
    """Name of the fixture kind whose identifying keys ``fixture`` has."""
    for kind, (keys, _) in KINDS.items():
        if keys <= set(fixture):
            return kind
    raise ValueError(f'{path}: not a pretraining or recognizer fixture; keys {sorted(fixture)}')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('fixture', help='fixture .pt file')
    args = parser.parse_args()
    fixture = torch_load(args.fixture)
    if not isinstance(fixture, dict):
        raise ValueError(f'{args.fixture}: expected a dict, got {type(fixture).__name__}')
    kind = detect_kind(fixture, args.fixture)
    checker: Callable[[dict], dict] = KINDS[kind][1]
    errors = checker(fixture)
    ok = all(e['max_abs_err'] <= e['tol'] for e in errors.values())
    print(json.dumps({'fixture': args.fixture, 'kind': kind, 'errors': errors, 'ok': ok}))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())

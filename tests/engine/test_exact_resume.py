import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from lmim_mm.engine.hooks.exact_resume import from_safe, rng_state, set_rng_state, to_safe
from lmim_mm.utils.fileio import AtomicLocalBackend, atomic_write_bytes


def test_message_hub_state_round_trips_through_weights_only_load(tmp_path):
    hub = MessageHub.get_instance('test_exact_resume')
    for i in range(5):
        hub.update_scalar('train/loss', np.float32(1.0 / (i + 1)))
    hub.update_info('iter', np.int64(7))
    hub.update_info('seed', 3)
    state = hub.state_dict()
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': to_safe(state), 'meta': to_safe({'seed': np.int64(3)})}, path)
    loaded = torch.load(path, weights_only=True)  # no allow-listed globals needed
    restored = from_safe(loaded['message_hub'])
    buffer = restored['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    np.testing.assert_allclose(buffer.data[0], state['log_scalars']['train/loss'].data[0])
    assert restored['runtime_info']['iter'] == 7 and loaded['meta']['seed'] == 3
    other = MessageHub.get_instance('test_exact_resume_2')
    other.load_state_dict(restored)
    assert other.get_scalar('train/loss').current() == pytest.approx(0.2)


def test_rng_state_round_trip(tmp_path):
    state = rng_state()
    torch.save(state, tmp_path / 'rng.pth')
    first = (torch.rand(3), np.random.rand(3), __import__('random').random())
    set_rng_state(torch.load(tmp_path / 'rng.pth', weights_only=True))
    second = (torch.rand(3), np.random.rand(3), __import__('random').random())
    assert torch.equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / 'epoch_1.pth'
    atomic_write_bytes(b'old', target)


    backend = AtomicLocalBackend()
    backend.put(b'new', target)
    assert target.read_bytes() == b'new'
    with pytest.raises(TypeError):
        atomic_write_bytes(object(), target)  # write fails midway
    assert target.read_bytes() == b'new'
    assert [p.name for p in tmp_path.iterdir()] == ['epoch_1.pth']  # no temporary file left
    backend.put_text('latest', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'last_checkpoint').read_text() == 'latest'
    assert not any(name.endswith('.tmp') for name in os.listdir(tmp_path))

"""tools/webui.py over HTTP: the page, words with their confidence and decoding steps, bad uploads refused
with a clear JSON error while the server stays up; the PyTorch path in a thread, the ONNX path as the CLI."""
import http.client
import json
import os
import re
import runpy
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
import torch

from benchmarks.tiny_recognizer import TINY_CONFIG, build_recognizer, fit, labeled_batch, normalised_images
from tests.helpers.tiny_data import png_header_only

REPO = Path(__file__).resolve().parents[2]
WEBUI = runpy.run_path(str(REPO / 'tools' / 'webui.py'))


def multipart(files: List[Tuple[str, bytes]]) -> Tuple[str, bytes]:
    """Content-Type and body of a form posting ``files`` as the page does (field ``image``)."""
    boundary = uuid.uuid4().hex
    body = b''.join(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
                    f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b'\r\n' for name, data in files)
    return f'multipart/form-data; boundary={boundary}', body + f'--{boundary}--\r\n'.encode()


def request(port: int, method: str, path: str, body: bytes = b'', headers: dict = None) -> Tuple[int, str, bytes]:
    """Status, Content-Type and body of one request."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    conn.request(method, path, body=body or None, headers=headers or {})
    response = conn.getresponse()
    answer = response.status, response.getheader('Content-Type'), response.read()
    conn.close()
    return answer


def post_files(port: int, files: List[Tuple[str, bytes]]) -> Tuple[int, dict]:
    content_type, body = multipart(files)
    status, kind, data = request(port, 'POST', '/read', body, {'Content-Type': content_type})
    assert kind.startswith('application/json')
    return status, json.loads(data)


@pytest.fixture(scope='module')
def words(real_data_dir) -> List[Tuple[str, bytes, str]]:
    """The first 4 IIIT5K test words: (file name, bytes, label)."""
    folder = real_data_dir / 'iiit5k_test'
    return [(f'{i}.png', (folder / 'IMG' / f'{i}.png').read_bytes(),
             (folder / 'label' / f'{i}.txt').read_text(encoding='utf-8').strip()) for i in range(1, 5)]


@pytest.fixture(scope='module')
def tiny(tmp_path_factory, real_data_dir) -> Path:
    """The tiny recognizer fitted to the first IIIT5K words: its checkpoint and its ONNX export."""
    root = tmp_path_factory.mktemp('webui')
    batch, _ = labeled_batch(real_data_dir / 'iiit5k_test', 4)
    model = build_recognizer(TINY_CONFIG)
    fit(model, batch, steps=80, lr=1e-3)  # reads all 4 words from any of the seeds 0-5 tried
    torch.save(dict(state_dict=model.state_dict()), root / 'tiny.pth')
    from lmim_mm.apis.export import export_recognizer

    export_recognizer(model, root / 'onnx', normalised_images(model, batch)[:2])
    return root


@pytest.fixture(scope='module')
def server(tiny):
    """The PyTorch path's server on a free port, serving from a thread."""
    from lmim_mm.apis import build_word_reader

    reader = build_word_reader(str(TINY_CONFIG), str(tiny / 'tiny.pth'), device='cpu')
    httpd = WEBUI['make_server'](reader, 'tiny', port=0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def check_steps(result: dict) -> None:
    """The steps spell the word, end with the end token and average to its confidence; top 3 ranked."""
    steps = result['steps']
    assert steps[-1]['end'] and not any(step['end'] for step in steps[:-1])
    assert ''.join(step['char'] for step in steps[:-1]) == result['text']
    assert result['confidence'] == pytest.approx(np.mean([step['prob'] for step in steps[:-1]]), abs=1e-5)
    for step in steps:
        assert len(step['top']) == 3 and step['top'][0] == dict(char=step['char'], prob=step['prob'])
        assert step['top'][0]['prob'] >= step['top'][1]['prob'] >= step['top'][2]['prob'] >= 0


def test_page_and_info(server):
    status, kind, body = request(server, 'GET', '/')
    assert status == 200 and kind.startswith('text/html')
    page = body.decode('utf-8')
    assert 'type="file"' in page and "fetch('/read'" in page and '://' not in page  # nothing from elsewhere
    status, _, body = request(server, 'GET', '/info')
    assert status == 200 and json.loads(body) == dict(model='tiny', max_files=64, max_bytes=20 * 2**20, top_k=3)
    status, _, body = request(server, 'GET', '/nothing')
    assert status == 404 and 'POST /read' in json.loads(body)['error']


def test_reads_words_with_confidence_and_steps(server, words):
    status, answer = post_files(server, [(name, data) for name, data, _ in words])
    assert status == 200 and [r['name'] for r in answer['results']] == [name for name, _, _ in words]
    for result in answer['results']:
        assert 0 < result['confidence'] <= 1
        check_steps(result)
    read = sum(result['text'] == label for result, (_, _, label) in zip(answer['results'], words))
    assert read >= 3, answer['results']  # fitted to these words


def bad_uploads(words) -> dict:
    """Name -> (Content-Type, body, expected status, a regular expression the message matches)."""
    many = multipart([(f'{i}.png', png_header_only(32, 8)) for i in range(1000)])  # 0.1 MB in all
    return {
        'not an image': (*multipart([('notes.png', b'not an image\n')]), 422,
                         r'^notes\.png: not a decodable image'),
        '60000 x 60000 PNG': (*multipart([('huge.png', png_header_only(60000, 60000))]), 422,
                              r'huge\.png: too large .*3600000000 pixels.*more than max_pixels=67108864'),
        '1000 files': (*many, 413, '^1000 files in one request, at most 64'),
        'not multipart': ('image/png', words[0][1], 415, 'expected multipart/form-data'),
        'no file': (multipart([])[0], multipart([])[1], 400, 'the request holds no file'),
    }


@pytest.mark.parametrize('case', ['not an image', '60000 x 60000 PNG', '1000 files', 'not multipart', 'no file'])
def test_bad_upload_is_refused_and_the_server_stays_up(server, words, case):
    content_type, body, expected, message = bad_uploads(words)[case]
    status, kind, data = request(server, 'POST', '/read', body, {'Content-Type': content_type})
    assert status == expected and kind.startswith('application/json')
    assert re.search(message, json.loads(data)['error'])
    status, answer = post_files(server, [words[0][:2]])
    assert status == 200 and answer['results'][0]['text']


def raw_headers(port: int, headers: str) -> Tuple[int, dict]:
    """Send a POST's headers and no body; the server's status and JSON answer."""
    with socket.create_connection(('127.0.0.1', port), timeout=60) as conn:
        conn.sendall(f'POST /read HTTP/1.1\r\nHost: x\r\n{headers}\r\n'.encode())
        response = http.client.HTTPResponse(conn)
        response.begin()
        return response.status, json.loads(response.read())


def test_100_mb_body_refused_from_its_length_before_reading(server, words):
    status, answer = raw_headers(server, 'Content-Type: multipart/form-data; boundary=x\r\n'
                                         f'Content-Length: {100 * 2**20}\r\n')
    assert status == 413 and 'a body of 100.0 MB, at most 20 MB' in answer['error']
    status, answer = raw_headers(server, 'Content-Type: multipart/form-data; boundary=x\r\n')
    assert status == 411 and 'Content-Length is needed' in answer['error']
    assert post_files(server, [words[0][:2]])[0] == 200


def test_one_bad_file_among_good_ones_is_named_and_the_others_read(server, words):
    status, answer = post_files(server, [words[0][:2], ('cut.png', words[1][1][:200]), words[2][:2]])
    assert status == 200
    good, cut, other = answer['results']
    assert 'text' in good and 'text' in other
    assert cut == dict(name='cut.png', error='cut.png: truncated PNG (the file ends before its end marker)')


def test_onnx_cli_serves_the_same_words(tiny, server, words):
    proc = subprocess.Popen([sys.executable, 'tools/webui.py', '--onnx', str(tiny / 'onnx'), '--port', '0'],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    try:
        line = proc.stdout.readline()
        assert line.startswith(f'reading with {tiny / "onnx"} (ONNX) at http://127.0.0.1:'), proc.stderr.read()
        port = int(line.rsplit(':', 1)[1].split('/')[0])
        files = [(name, data) for name, data, _ in words]
        status, onnx_answer = post_files(port, files)
        assert status == 200
        torch_answer = post_files(server, files)[1]
        for onnx_result, torch_result in zip(onnx_answer['results'], torch_answer['results']):
            check_steps(onnx_result)
            assert onnx_result['text'] == torch_result['text']
            assert [s['char'] for s in onnx_result['steps']] == [s['char'] for s in torch_result['steps']]
            assert np.allclose([s['prob'] for s in onnx_result['steps']], [s['prob'] for s in torch_result['steps']],
                               atol=2e-3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

"""See a recognizer read: a local web page where word images dropped on it are read.

Usage: python tools/webui.py CONFIG CHECKPOINT [--host 127.0.0.1] [--port 8000] [--device cpu]
       python tools/webui.py --onnx EXPORT_DIR [--host 127.0.0.1] [--port 8000]

Serves ``tools/webui.html`` at ``/``: drop (or pick) word images and each shows the word read, its
confidence and the decoding steps (per step the character, its probability and the
:data:`TOP_K` most probable characters). The page posts each image to ``/read``, which takes
``multipart/form-data`` with one or more files (``curl -F image=@word.png http://127.0.0.1:8000/read``)
and answers JSON ``{"results": [{"name", "text", "confidence", "steps"} or {"name", "error"}], "seconds"}``:
200 when at least one file was read, 422 when none could be (each file's reason, naming it). Refused
with a JSON ``{"error"}``: a body over ``--max-mb`` (judged from ``Content-Length`` before reading it,
413), more than ``--max-files`` files (413), no ``Content-Length`` (411), not ``multipart/form-data``
(415), no file (400). Images are decoded by the reader of training and testing
(:meth:`lmim_mm.apis.WordReader.read_inputs`: empty, undecodable, truncated and over 64 Mpixel files
are refused, judged from the header). Python's standard library server, one recognition at a time; it
listens on 127.0.0.1 unless ``--host`` says otherwise. Nothing is fetched from the internet.
"""
import argparse
import email.parser
import email.policy
import json
import math
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, List, Tuple

if TYPE_CHECKING:
    from lmim_mm.apis import WordReader

PAGE = Path(__file__).with_name('webui.html')
#: Alternatives shown per decoding step.
TOP_K = 3


class UploadError(Exception):
    """A request the server refuses: its HTTP status and a message for the user."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('model', nargs='*', metavar='CONFIG CHECKPOINT', help='recognizer config and checkpoint')
    parser.add_argument('--onnx', metavar='DIR', default=None,
                        help='read with this ONNX export (tools/deployment/pytorch2onnx.py) on onnxruntime')
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on (0.0.0.0: every interface)')
    parser.add_argument('--port', type=int, default=8000, help='port (0: any free one)')
    parser.add_argument('--device', default=None, help='cpu / cuda (default: cuda when available)')
    parser.add_argument('--max-files', type=int, default=64, help='most files in one request')
    parser.add_argument('--max-mb', type=float, default=20, help='largest request body in MB')
    args = parser.parse_args()
    if len(args.model) != (0 if args.onnx else 2):
        parser.error('expected CONFIG CHECKPOINT, or --onnx DIR')
    args.config, args.checkpoint = args.model if args.model else (None, None)
    return args


def parse_upload(content_type: str, body: bytes, max_files: int) -> List[Tuple[str, bytes]]:
    """The files of a ``multipart/form-data`` body.

    Returns:
        ``(file name, bytes)`` per file part (parts without a file name, plain form fields, are left out).

    Raises:
        UploadError: not multipart/form-data (415), no file (400), more than ``max_files`` files (413).
    """
    if not content_type.lower().startswith('multipart/form-data'):
        raise UploadError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f'expected multipart/form-data with image files, got '
                          f'Content-Type {content_type or "(none)"!r} (e.g. curl -F image=@word.png URL/read)')
    head = f'Content-Type: {content_type}\r\n\r\n'.encode('latin-1', 'replace')
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts = message.get_payload() if message.is_multipart() else []
    files = [(part.get_filename() or f'file {i + 1}', part.get_payload(decode=True) or b'')
             for i, part in enumerate(parts) if part.get_filename() is not None]
    if not files:
        raise UploadError(HTTPStatus.BAD_REQUEST, 'the request holds no file (multipart/form-data parts with a file '
                          'name, e.g. curl -F image=@word.png URL/read)')
    if len(files) > max_files:
        raise UploadError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f'{len(files)} files in one request, at most '
                          f'{max_files}: send them in several requests')
    return files


def read_uploads(reader: 'WordReader', files: List[Tuple[str, bytes]], lock: threading.Lock) -> Tuple[int, dict]:
    """Read the uploaded files: the status (200 when at least one was read, else 422) and the JSON answer."""
    start, results = time.perf_counter(), []
    with lock:  # one recognition at a time: the CPU is shared anyway, and the model's hooks are per call
        predictions = reader.read_inputs(files, batch_size=len(files), top_k=TOP_K)
    for (name, _), prediction in zip(files, predictions):
        if 'error' in prediction:
            results.append(dict(name=name, error=prediction['error']))
            continue
        confidence = float(prediction['scores'])  # NaN for an empty word: JSON has no NaN
        results.append(dict(name=name, text=prediction['text'],
                            confidence=None if math.isnan(confidence) else confidence, steps=prediction['steps']))
    answer = dict(results=results, seconds=round(time.perf_counter() - start, 3))
    if any('error' not in result for result in results):
        return HTTPStatus.OK, answer
    return HTTPStatus.UNPROCESSABLE_ENTITY, dict(answer, error='; '.join(r['error'] for r in results))


class WebUIHandler(BaseHTTPRequestHandler):
    """``GET /`` the page, ``GET /info`` the model and limits, ``POST /read`` images -> words (JSON)."""

    server_version = 'lmim_mm-webui'
    timeout = 60  # seconds a client may stall before its connection is dropped
    # set by make_server
    reader: 'WordReader'
    info: dict
    lock: threading.Lock

    def send_json(self, status: int, payload: dict) -> None:
        """Answer ``payload`` as JSON."""
        body = json.dumps(payload, ensure_ascii=False).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        path = self.path.split('?', 1)[0]
        if path == '/info':
            return self.send_json(HTTPStatus.OK, self.info)
        if path not in ('/', '/index.html'):
            return self.send_json(HTTPStatus.NOT_FOUND, dict(error=f'no page {path}: the page is /, images go to '
                                                             'POST /read'))
        body = PAGE.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header('Content-Type', 'text/html; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802  (http.server's name)
        try:
            if self.path.split('?', 1)[0] != '/read':
                raise UploadError(HTTPStatus.NOT_FOUND, f'no endpoint {self.path}: POST images to /read')
            length = self.body_length()
            body = self.rfile.read(length)
            if len(body) != length:
                raise UploadError(HTTPStatus.BAD_REQUEST, f'the body ended after {len(body)} of {length} bytes')
            files = parse_upload(self.headers.get('Content-Type', ''), body, self.info['max_files'])
            self.send_json(*read_uploads(self.reader, files, self.lock))
        except UploadError as err:
            self.send_json(err.status, dict(error=str(err)))
        except Exception as err:  # the server stays up; the user sees what went wrong
            self.log_error('reading failed: %r', err)
            self.send_json(HTTPStatus.INTERNAL_SERVER_ERROR, dict(error=f'reading failed: {type(err).__name__}: {err}'))

    def body_length(self) -> int:
        """The body's size from ``Content-Length``, refused before reading when missing, invalid or too large
        (the connection is then closed, the body left unread)."""
        value, limit = self.headers.get('Content-Length'), self.info['max_bytes']
        if value is None or not value.isdigit():
            self.close_connection = True
            raise UploadError(HTTPStatus.LENGTH_REQUIRED if value is None else HTTPStatus.BAD_REQUEST,
                              f'a Content-Length is needed (got {value!r})')
        if int(value) > limit:
            self.close_connection = True
            raise UploadError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f'a body of {int(value) / 2**20:.1f} MB, at most '
                              f'{limit / 2**20:g} MB: send fewer or smaller images per request')
        return int(value)


def make_server(reader: 'WordReader', model: str, host: str = '127.0.0.1', port: int = 8000, max_files: int = 64,
                max_mb: float = 20) -> ThreadingHTTPServer:
    """A server for the page and ``/read`` (not yet serving: call ``serve_forever``).

    Args:
        reader: Reads the images (:func:`lmim_mm.apis.build_word_reader`).
        model: What the page names as the model.
        host: Address to listen on.
        port: Port (0: any free one, see ``server.server_address``).
        max_files: Most files in one request.
        max_mb: Largest request body, MB.
    """
    info = dict(model=model, max_files=max_files, max_bytes=int(max_mb * 2**20), top_k=TOP_K)
    handler = type('Handler', (WebUIHandler, ), dict(reader=reader, info=info, lock=threading.Lock()))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    args = parse_args()
    from lmim_mm.apis import build_word_reader

    reader = build_word_reader(args.config, args.checkpoint, args.onnx, args.device)
    model = f'{args.onnx} (ONNX)' if args.onnx else f'{args.config} + {args.checkpoint}'
    server = make_server(reader, model, args.host, args.port, args.max_files, args.max_mb)
    host, port = server.server_address[:2]
    print(f'reading with {model} at http://{host}:{port}/ (Ctrl+C stops)', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print('stopped', file=sys.stderr)
    finally:
        server.server_close()


if __name__ == '__main__':
    main()

"""Parse command lines with the argument parsers of scripts, without running the scripts' work.

Reads a JSON list of ``[script, argv]`` pairs on stdin and writes a JSON list of error messages (``null``
where ``argv`` parses) to the file named by its one argument (stdout is left to what the scripts print).
Each script runs as ``__main__`` until it calls ``parse_args`` / ``parse_known_args``; that call is
intercepted, so the script's own parser (with every argument that helpers add to it) parses ``argv``
instead of ``sys.argv``. Scripts are imported once, in one process,
so each heavy import (torch, mmengine, mmocr) is paid once.

Run from the repository root with it on ``PYTHONPATH``.
"""
import argparse
import contextlib
import io
import json
import runpy
import sys
import traceback
from typing import Dict, List, Optional


class ParserCaptured(Exception):
    """Raised instead of parsing: carries the parser a script built."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__(parser.prog)
        self.parser = parser


def capture_parser(script: str) -> argparse.ArgumentParser:
    """Run ``script`` as ``__main__`` until it parses its arguments; return its parser.

    Raises:
        RuntimeError: The script ended without parsing arguments.
    """
    original = argparse.ArgumentParser.parse_known_args

    def intercept(self, args=None, namespace=None):
        raise ParserCaptured(self)

    argparse.ArgumentParser.parse_known_args = intercept
    saved_argv = sys.argv
    sys.argv = [script]
    try:
        runpy.run_path(script, run_name='__main__')
    except ParserCaptured as captured:
        return captured.parser
    finally:
        argparse.ArgumentParser.parse_known_args = original
        sys.argv = saved_argv
    raise RuntimeError(f'{script} ended without parsing command-line arguments')


def parse_error(parser: argparse.ArgumentParser, argv: List[str]) -> Optional[str]:
    """argparse's error message for ``argv``, or None when it parses."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(argv)
        except SystemExit as stop:
            if stop.code:
                return stderr.getvalue().strip() or f'exit status {stop.code}'
    return None


def main() -> None:
    parsers: Dict[str, argparse.ArgumentParser] = {}
    errors: List[Optional[str]] = []
    for script, argv in json.load(sys.stdin):
        try:
            if script not in parsers:
                parsers[script] = capture_parser(script)
            errors.append(parse_error(parsers[script], argv))
        except Exception:  # a script that fails before it parses: report it with its command
            errors.append(traceback.format_exc(limit=3))
    with open(sys.argv[1], 'w', encoding='utf-8') as out:
        json.dump(errors, out)


if __name__ == '__main__':
    main()

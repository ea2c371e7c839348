"""Every command the documentation shows runs as shown: its script exists, its flags and arguments parse
with that script's own argparse parser, every config it names loads, every ``make`` target exists; links
between the pages resolve; the README is a short front page.

Commands are taken from README.md, docs/**/*.md and configs/*/README.md: every line of a ``bash`` /
``shell`` / ``sh`` code block, lines of other code blocks and inline code spans that start with
``python tools/``, ``python benchmarks/``, ``python -m benchmarks``, ``bash tools/``, ``make `` or ``mim ``.
"""
import json
import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Iterator, List, NamedTuple, Optional, Tuple

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / 'README.md', *sorted((REPO / 'docs').rglob('*.md')), *sorted((REPO / 'configs').glob('*/README.md'))]
SHELL_FENCES = ('bash', 'shell', 'sh')
COMMAND_PREFIXES = ('python tools/', 'python benchmarks/', 'python -m benchmarks', 'bash tools/', 'make ', 'mim ')
#: Placeholders the pages may use for arguments, and the value each stands for when the command is parsed.
PLACEHOLDERS = {
    'CONFIG': 'configs/lmim_pretrain.py', 'CHECKPOINT': 'work_dirs/lmim_pretrain/epoch_10.pth',
    'FIXTURE.pt': 'fixture.pt', 'PARTITION': 'gpu', 'SRC': 'data/src', 'OUT': 'data/out_lmdb',
    'GT_TXT': 'data/gt.txt', 'IMAGE_DIR': 'data/images', 'ANN_JSON': 'data/ann.json', 'LMDB': 'data/lmdb',
    'OUT_DIR': 'data/out', 'DIR': 'work_dirs/onnx', 'SPEC': 'base', 'IMAGE': 'word.png',
}
#: Launchers that hand their trailing arguments to a Python tool: (tool, positionals they take,
#: indices of the positionals passed on to the tool, options they add).
SHELL_LAUNCHERS = {
    'tools/dist_train.sh': ('tools/train.py', 2, (0,), ()),
    'tools/dist_test.sh': ('tools/test.py', 3, (0, 1), ()),
    'tools/slurm_train.sh': ('tools/train.py', 4, (2,), ('--work-dir', 3)),
    'tools/slurm_test.sh': ('tools/test.py', 4, (2, 3), ()),
}
#: Shell scripts that run no single Python tool: the positionals they need.
SHELL_SCRIPTS = {'tools/install_into_env.sh': 1, 'tools/gpu_run.sh': 2, 'tools/setup_env.sh': 0}
#: mim's own options (value count), removed before the tool's parser sees the rest.
MIM_OPTIONS = {'--checkpoint': 1, '--gpus': 1, '--gpus-per-node': 1, '--cpus-per-task': 1, '--partition': 1,
               '--srun-args': 1, '--port': 1, '-y': 0, '--yes': 0}
MIM_TOOLS = {'train': 'tools/train.py', 'test': 'tools/test.py'}
#: What user-facing pages must not say: paths outside the repository and the project's build history.
FORBIDDEN = ('../shared', 'shared/data', 'shared/spec', 'stand-in', 'had before', '1.5x target', 'was removed')


class Command(NamedTuple):
    page: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f'{self.page.relative_to(REPO)}:{self.line}: {self.text}'


def logical_lines(lines: List[Tuple[int, str]]) -> Iterator[Tuple[int, str]]:
    """Join lines continued with a trailing backslash."""
    pending, start = '', 0
    for number, line in lines:
        if not pending:
            start = number
        if line.rstrip().endswith('\\'):
            pending += line.rstrip()[:-1] + ' '
            continue
        yield start, pending + line
        pending = ''
    if pending:
        yield start, pending


def extract_commands(page: Path) -> List[Command]:
    """The shell commands of one Markdown page."""
    commands: List[Command] = []
    fence: Optional[str] = None
    block: List[Tuple[int, str]] = []
    for number, line in enumerate(page.read_text(encoding='utf-8').splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith('```'):
            if fence is None:
                fence, block = stripped[3:].strip().lower(), []
                continue
            for start, text in logical_lines(block):
                text = text.strip()
                if text and not text.startswith('#') and (fence in SHELL_FENCES or text.startswith(COMMAND_PREFIXES)):
                    commands.append(Command(page, start, text))
            fence = None
        elif fence is not None:
            block.append((number, line))
        else:
            commands += [Command(page, number, span) for span in re.findall(r'`([^`]+)`', line)
                         if span.startswith(COMMAND_PREFIXES)]
    return commands


COMMANDS = [command for page in PAGES for command in extract_commands(page)]


def split_command(text: str) -> List[List[str]]:
    """Simple commands of a command line (split at ``&&``, ``||``, ``;``, ``|``), comments dropped,
    leading ``NAME=value`` environment assignments removed."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=';&|')
    lexer.whitespace_split, lexer.commenters = True, '#'
    parts: List[List[str]] = [[]]
    for token in lexer:
        if token in ('&&', '||', ';', '|'):
            parts.append([])
        else:
            parts[-1].append(token)
    simple = []
    for tokens in parts:
        while tokens and re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*=\S*', tokens[0]):
            tokens = tokens[1:]
        if tokens:
            simple.append(tokens)
    return simple


def substitute_placeholders(tokens: List[str]) -> List[str]:
    """Placeholders -> the values they stand for; an unknown all-capitals argument is an error."""
    result = []
    for token in tokens:
        if token in PLACEHOLDERS:
            token = PLACEHOLDERS[token]
        elif re.fullmatch(r'\$\{?[A-Z_]+\}?|[A-Z][A-Z0-9_]{2,}', token):
            raise AssertionError(f'unknown placeholder {token!r}: add it to PLACEHOLDERS or show a real value')
        result.append(token)
    return result


def make_targets() -> set:
    text = (REPO / 'Makefile').read_text(encoding='utf-8')
    return set(re.findall(r'^([A-Za-z0-9_.-]+):', text, flags=re.M))


def tool_invocation(tokens: List[str]) -> Optional[Tuple[str, List[str]]]:
    """``(script, argv)`` of the Python tool a simple command runs, or None if it runs none.

    Raises:
        AssertionError: A script, launcher or ``make`` target that does not exist.
    """
    program, args = tokens[0], tokens[1:]
    if program in ('python', 'python3') and args[:1] == ['-m'] and args[1].split('.')[0] == 'benchmarks':
        module = REPO / args[1].replace('.', '/')  # run from the repository root: the package or one of its modules
        script = module / '__main__.py' if module.is_dir() else module.with_suffix('.py')
        assert script.is_file(), f'no such module: {args[1]}'
        return script.relative_to(REPO).as_posix(), args[2:]
    if program in ('python', 'python3'):
        if not args or args[0] == '-m':
            return None
        assert (REPO / args[0]).is_file(), f'no such script: {args[0]}'
        return args[0], args[1:]
    if program == 'bash' or program.startswith('tools/'):
        script, args = (args[0], args[1:]) if program == 'bash' else (program, args)
        assert (REPO / script).is_file(), f'no such script: {script}'
        if script in SHELL_SCRIPTS:
            assert len(args) == SHELL_SCRIPTS[script], f'{script} takes {SHELL_SCRIPTS[script]} arguments, got {args}'
            return None
        assert script in SHELL_LAUNCHERS, f'{script}: add it to SHELL_LAUNCHERS or SHELL_SCRIPTS'
        tool, count, passed, extra = SHELL_LAUNCHERS[script]
        assert len(args) >= count, f'{script} takes {count} positional arguments, got {args}'
        argv = [args[i] for i in passed] + (list(extra[:1]) + [args[extra[1]]] if extra else []) + args[count:]
        return tool, argv
    if program == 'make':
        missing = [t for t in args if '=' not in t and t not in make_targets()]
        assert not missing, f'no such make target: {missing}'
        return None
    if program == 'mim':
        if args[0] not in MIM_TOOLS:
            return None
        assert args[1] == 'lmim_mm', f'mim {args[0]} of another package: {args[1]}'
        argv, rest, checkpoint = [args[2]], args[3:], []
        while rest:
            token = rest.pop(0)
            if token in MIM_OPTIONS:
                values = [rest.pop(0) for _ in range(MIM_OPTIONS[token])]
                checkpoint += values if token == '--checkpoint' else []
            else:
                argv.append(token)
        return MIM_TOOLS[args[0]], argv[:1] + checkpoint + argv[1:]
    return None


@cache
def load_config(path: str) -> Config:
    return Config.fromfile(str(REPO / path))


def invocations(command: Command) -> List[Tuple[str, List[str]]]:
    """The Python tools a documented command runs, with their arguments.

    Raises:
        AssertionError: A script, launcher, ``make`` target or placeholder that does not exist.
    """
    calls = [tool_invocation(substitute_placeholders(tokens)) for tokens in split_command(command.text)]
    return [call for call in calls if call is not None]


def test_the_pages_show_commands():
    pages = {command.page.relative_to(REPO).as_posix() for command in COMMANDS}
    assert {'README.md', 'docs/en/get_started.md', 'docs/en/data_preparation.md', 'docs/en/testing.md'} <= pages
    assert len(COMMANDS) > 60


def test_extraction_of_blocks_spans_and_continuations(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('Run `python tools/train.py CONFIG` or `pip list`.\n```bash\n# a comment\nmake demo \\\n'
                    '    DATA=x   # inline\npip install .\n```\n```python\nimport lmim_mm\n```\n'
                    '```\nmim search lmim_mm\n```\n', encoding='utf-8')
    assert [(c.line, c.text) for c in extract_commands(page)] == [
        (1, 'python tools/train.py CONFIG'), (4, 'make demo      DATA=x   # inline'), (6, 'pip install .'),
        (12, 'mim search lmim_mm')]
    assert split_command('CUDA_VISIBLE_DEVICES=0 python a.py --x "1 2" && make test # done') == [
        ['python', 'a.py', '--x', '1 2'], ['make', 'test']]


@pytest.mark.parametrize('command', COMMANDS, ids=str)
def test_scripts_targets_and_configs_exist(command):
    invocations(command)
    for tokens in split_command(command.text):
        for token in tokens:
            for config in re.findall(r'(?<![\w/])(configs/[\w./-]+\.py)', token):
                assert (REPO / config).is_file(), f'{command}: no such config {config}'
                assert load_config(config).filename
            for script in re.findall(r'^((?:tools|benchmarks)/[\w./-]+\.(?:py|sh))$', token):
                assert (REPO / script).is_file(), f'{command}: no such script {script}'


@pytest.mark.timeout(900)
def test_every_tool_command_parses_with_its_parser(tmp_path):
    calls = []
    for command in COMMANDS:
        try:
            calls += [(command, script, argv) for script, argv in invocations(command)]
        except AssertionError:  # reported by test_scripts_targets_and_configs_exist
            continue
    assert len({script for _, script, _ in calls}) > 15
    request = tmp_path / 'request.json'
    request.write_text(json.dumps([[script, argv] for _, script, argv in calls]), encoding='utf-8')
    answer = tmp_path / 'errors.json'
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    with request.open() as stdin:
        subprocess.run([sys.executable, str(REPO / 'tests' / 'helpers' / 'argparse_probe.py'), str(answer)],
                       stdin=stdin, cwd=REPO, env=env, check=True, timeout=800, stdout=subprocess.DEVNULL)
    errors = json.loads(answer.read_text(encoding='utf-8'))
    failures = [f'{command}\n    {script} {argv}: {error}' for (command, script, argv), error in zip(calls, errors)
                if error]
    assert not failures, '\n'.join(failures)


def test_the_probe_reports_unknown_flags_and_missing_arguments(tmp_path):
    request = tmp_path / 'request.json'
    request.write_text(json.dumps([['tools/test.py', ['a.py', 'b.pth', '--show-dir', 'vis']],
                                   ['tools/test.py', ['a.py', 'b.pth', '--no-such-flag']],
                                   ['tools/data/make_synthetic.py', ['--lang', 'fr']]]), encoding='utf-8')
    answer = tmp_path / 'errors.json'
    with request.open() as stdin:
        subprocess.run([sys.executable, str(REPO / 'tests' / 'helpers' / 'argparse_probe.py'), str(answer)],
                       stdin=stdin, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), check=True, timeout=600,
                       stdout=subprocess.DEVNULL)
    ok, unknown, bad_choice = json.loads(answer.read_text(encoding='utf-8'))
    assert ok is None
    assert 'unrecognized arguments: --no-such-flag' in unknown
    assert "invalid choice: 'fr'" in bad_choice


def test_launchers_and_mim_hand_their_arguments_to_the_tool():
    assert tool_invocation(['bash', 'tools/dist_test.sh', 'c.py', 'x.pth', '8', '--show-dir', 'v']) == (
        'tools/test.py', ['c.py', 'x.pth', '--show-dir', 'v'])
    assert tool_invocation(['bash', 'tools/slurm_train.sh', 'p', 'job', 'c.py', 'wd', '--amp']) == (
        'tools/train.py', ['c.py', '--work-dir', 'wd', '--amp'])
    assert tool_invocation(['mim', 'test', 'lmim_mm', 'c.py', '--checkpoint', 'x.pth', '--gpus', '1']) == (
        'tools/test.py', ['c.py', 'x.pth'])
    assert tool_invocation(['python', '-m', 'benchmarks', '--quick']) == ('benchmarks/__main__.py', ['--quick'])
    assert tool_invocation(['python', '-m', 'benchmarks.self_check', '--device', 'cpu']) == (
        'benchmarks/self_check.py', ['--device', 'cpu'])
    assert tool_invocation(['python', '-m', 'pip', 'list']) is None
    with pytest.raises(AssertionError, match='no such module: benchmarks.nope'):
        tool_invocation(['python', '-m', 'benchmarks.nope'])
    with pytest.raises(AssertionError, match='no such make target'):
        tool_invocation(['make', 'dmeo'])
    with pytest.raises(AssertionError, match='unknown placeholder'):
        substitute_placeholders(['python', 'tools/test.py', 'CONFG'])


def heading_anchors(page: Path) -> set:
    """GitHub's anchors of a page's headings."""
    anchors = set()
    for heading in re.findall(r'^#+ (.+)$', page.read_text(encoding='utf-8'), flags=re.M):
        anchors.add(re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-'))
    return anchors


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_links_resolve(page):
    text = re.sub(r'```.*?```', '', page.read_text(encoding='utf-8'), flags=re.S)
    for target in re.findall(r'\]\(([^)\s]+)\)', text):
        if re.match(r'[a-z]+://', target):
            continue
        path, _, anchor = target.partition('#')
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f'{page.name}: broken link {target}'
        if anchor and linked.suffix == '.md':
            assert anchor in heading_anchors(linked), f'{page.name}: no heading for #{anchor} in {linked.name}'


def test_readme_is_a_front_page_linking_every_docs_page():
    readme = (REPO / 'README.md').read_text(encoding='utf-8')
    assert len(readme.splitlines()) <= 150
    for name in ('get_started', 'data_preparation', 'pretraining', 'finetuning', 'testing', 'inference',
                 'deployment', 'results', 'faq', 'changelog', 'citation'):
        assert (REPO / 'docs' / 'en' / f'{name}.md').is_file()
        assert f'(docs/en/{name}.md' in readme, f'README does not link docs/en/{name}.md'
    assert 'WAICS' in readme and 'word accuracy ignoring case and symbols' in readme


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_pages_speak_of_the_project_as_it_is(page):
    text = page.read_text(encoding='utf-8')
    found = [phrase for phrase in FORBIDDEN if phrase in text]
    assert not found, f'{page.name}: {found}'

"""The Chinese dictionary is the FudanVI alphabet; dictionary files, their tools and GeneratedDictionary."""
import importlib.util
from pathlib import Path

import pytest
from mmengine.config import Config
from mmocr.registry import TASK_UTILS

import lmim_mm  # noqa: F401  (registers GeneratedDictionary)
from lmim_mm.datasets.dictionary import (
    GeneratedDictionary,
    alphabet_chars,
    chars_by_frequency,
    read_dict_chars,
    write_dict,
)

REPO = Path(__file__).resolve().parents[2]
CHINESE_DICT = REPO / 'dicts' / 'chinese_fudanvi.txt'
FUDANVI_CONFIG = REPO / 'configs' / 'textrecog' / 'vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-60e_fudanvi.py'


def run_tool(path: str, *args: str) -> None:
    """``main(args)`` of a tool script, in this process."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(list(args))


@pytest.fixture(scope='module')
def alphabet(shared_dir) -> str:
    return (shared_dir / 'data' / 'fudanvi' / 'alphabet.txt').read_text(encoding='utf-8')


def test_chinese_dictionary_is_the_benchmark_alphabet(alphabet):
    assert CHINESE_DICT.is_file(), f'{CHINESE_DICT} missing: make setup (or tools/data/fudanvi_dict.py) makes it'
    lines = CHINESE_DICT.read_text(encoding='utf-8').split('\n')
    assert lines[-1] == '' and lines[:-1] == list(alphabet)  # char for char, in order, one a line
    assert len(alphabet) == 7934 and '的' in alphabet and '是' in alphabet


def test_fudanvi_config_has_7937_classes():
    dictionary = TASK_UTILS.build(Config.fromfile(FUDANVI_CONFIG).model.decoder.dictionary)
    assert isinstance(dictionary, GeneratedDictionary)
    assert dictionary.num_classes == 7937 and dictionary.dict[:7934] == read_dict_chars(CHINESE_DICT)


def test_missing_generated_dictionary_says_how_to_make_it(tmp_path):
    cfg = Config.fromfile(FUDANVI_CONFIG).model.decoder.dictionary
    cfg.dict_file = str(tmp_path / 'chinese_fudanvi.txt')
    with pytest.raises(FileNotFoundError, match=r'chinese_fudanvi.txt not found; make it with: python '
                                                r'tools/data/fudanvi_dict.py .*benchmark.txt'):
        TASK_UTILS.build(cfg)


def test_fudanvi_dict_tool(tmp_path, alphabet, shared_dir):
    out = tmp_path / 'zh.txt'
    run_tool('tools/data/fudanvi_dict.py', str(shared_dir / 'data' / 'fudanvi' / 'alphabet.txt'), '--out', str(out))
    assert out.read_bytes() == CHINESE_DICT.read_bytes()


def test_alphabet_and_dict_files_are_checked(tmp_path):
    (tmp_path / 'a.txt').write_text('ab中\n', encoding='utf-8')
    assert alphabet_chars(tmp_path / 'a.txt') == ['a', 'b', '中']
    (tmp_path / 'b.txt').write_text('ab\ncd', encoding='utf-8')
    with pytest.raises(ValueError, match=r'b.txt .*entry 2'):
        alphabet_chars(tmp_path / 'b.txt')
    (tmp_path / 'c.txt').write_text('aba', encoding='utf-8')
    with pytest.raises(ValueError, match=r"c.txt.*repeated: 'a'"):
        alphabet_chars(tmp_path / 'c.txt')
    (tmp_path / 'd.txt').write_text('a\nbc\n', encoding='utf-8')
    with pytest.raises(ValueError, match=r'd.txt:2: .* 2 characters'):
        read_dict_chars(tmp_path / 'd.txt')
    assert write_dict([' ', '中', 'x'], tmp_path / 'e.txt') == 3
    assert read_dict_chars(tmp_path / 'e.txt') == [' ', '中', 'x']  # a space is a character too


def test_chars_by_frequency_and_build_dict_tool(tmp_path):
    assert chars_by_frequency(['中文', '文字', 'b', 'a']) == ['文', 'a', 'b', '中', '字']
    labels = tmp_path / 'labels.txt'
    labels.write_text('中文\n文字\n', encoding='utf-8')
    (tmp_path / 'base.txt').write_text('x\n字\n', encoding='utf-8')
    out = tmp_path / 'dict.txt'
    run_tool('tools/data/build_dict.py', str(labels), '--format', 'lines', '--base', str(tmp_path / 'base.txt'),
             '--out', str(out))
    assert read_dict_chars(out) == ['x', '字', '文', '中']  # the base keeps its ids, new characters follow

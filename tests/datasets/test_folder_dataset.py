"""The IMG/<i>.<ext> + label/<i>.txt folder format and RecogFolderDataset on real benchmarks."""
import shutil
from pathlib import Path

import numpy as np
import pytest

from lmim_mm.datasets import LabeledLMDBDataset, RecogFolderDataset
from lmim_mm.datasets.sources import DatasetFormatError, files_to_lmdb, list_folder_samples, read_label_file


@pytest.fixture(scope='module')
def svt_test(real_data_dir):
    return real_data_dir / 'svt_test'


def test_folder_samples_ordered_by_numeric_id(svt_test):
    items = list_folder_samples(svt_test)
    assert len(items) == 647
    assert [Path(p).name for p, _ in items[:11]] == [f'{i}.jpg' for i in range(1, 12)]
    raw = (svt_test / 'label' / '10.txt').read_text(encoding='utf-8')
    assert items[9][1] == raw.removesuffix('\n')


def test_recog_folder_dataset_equals_its_lmdb(tmp_path, svt_test):
    folder = RecogFolderDataset(str(svt_test), test_mode=True)
    assert len(folder) == 647
    files_to_lmdb(list_folder_samples(svt_test), tmp_path / 'svt.lmdb', progress=False)
    lmdb = LabeledLMDBDataset(str(tmp_path / 'svt.lmdb'), test_mode=True)
    for idx in (0, 1, 100, 646):
        a, b = folder[idx], lmdb[idx]
        np.testing.assert_array_equal(a['img'], b['img'])
        assert a['instances'] == b['instances'] and a['sample_idx'] == b['sample_idx'] == idx
        assert a['img_path'] == str(svt_test / 'IMG' / f'{idx + 1}.jpg')


def test_label_file_keeps_spaces_and_strips_only_the_newline(tmp_path):
    (tmp_path / 'a.txt').write_bytes(b' T H E \r\n')
    assert read_label_file(tmp_path / 'a.txt') == ' T H E '
    (tmp_path / 'b.txt').write_bytes(b'two\nlines\n')
    with pytest.raises(DatasetFormatError, match=r'b\.txt'):
        read_label_file(tmp_path / 'b.txt')
    (tmp_path / 'c.txt').write_bytes(b'\xff\xfe')
    with pytest.raises(DatasetFormatError, match=r'c\.txt.*UTF-8'):
        read_label_file(tmp_path / 'c.txt')


@pytest.fixture
def small_folder(tmp_path, svt_test):
    root = tmp_path / 'set'
    for sub in ('IMG', 'label'):
        (root / sub).mkdir(parents=True)
    for i in (1, 2, 10):
        shutil.copy(svt_test / 'IMG' / f'{i}.jpg', root / 'IMG' / f'{i}.jpg')
        shutil.copy(svt_test / 'label' / f'{i}.txt', root / 'label' / f'{i}.txt')
    return root


def test_folder_errors_name_the_file(small_folder):
    assert [Path(p).name for p, _ in list_folder_samples(small_folder)] == ['1.jpg', '2.jpg', '10.jpg']
    (small_folder / 'label' / '2.txt').unlink()
    with pytest.raises(DatasetFormatError, match=r'images without label file: \[.*2\.jpg'):
        list_folder_samples(small_folder)
    (small_folder / 'IMG' / '2.jpg').rename(small_folder / 'IMG' / 'two.jpg')
    with pytest.raises(DatasetFormatError, match=r'two\.jpg: expected files named <integer>\.<ext>'):
        list_folder_samples(small_folder)
    shutil.rmtree(small_folder / 'label')
    with pytest.raises(FileNotFoundError, match='no label/ folder'):
        list_folder_samples(small_folder)
    with pytest.raises(FileNotFoundError, match='no label/ folder'):
        RecogFolderDataset(str(small_folder))  # a recognition dataset reads the labeled layout
    assert len(list_folder_samples(small_folder, labeled=False)) == 3  # IMG/ as a plain image folder

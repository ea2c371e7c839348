"""lmim_mm.apis.read_labels: the labels of every data source, FudanVI prediction files and label lines."""
import pytest

from lmim_mm.apis.labels import LABEL_FORMATS, read_labels
from lmim_mm.datasets.sources import DatasetFormatError, list_folder_samples, open_source


def test_every_format_gives_the_labels(real_data_dir, toy_data_dir, shared_dir, tmp_path):
    assert LABEL_FORMATS == ('lmdb', 'folder', 'json', 'txt', 'predictions', 'lines')
    expected = [label for _, label in list_folder_samples(real_data_dir / 'svt_test')]
    assert list(read_labels(real_data_dir / 'svt_test')) == expected
    (tmp_path / 'gt.txt').write_text('IMG/1.jpg\tNew York\nIMG/2.jpg café\n', encoding='utf-8')
    assert list(read_labels(tmp_path / 'gt.txt', 'lines')) == [
        'IMG/1.jpg\tNew York', 'IMG/2.jpg café']  # lines: each line is a label
    lmdb = toy_data_dir / 'imgs.lmdb'
    assert list(read_labels(lmdb)) == list(read_labels(toy_data_dir / 'labels.json')) == [
        label for _, label in open_source(lmdb).samples()]
    assert not open_source(lmdb).is_open  # read and closed
    crnn = shared_dir / 'data' / 'fudanvi' / 'predictions' / 'CRNN' / 'CRNN_web.txt'
    assert len(list(read_labels(crnn, 'predictions'))) == 14059


def test_unlabeled_source_is_an_error(toy_data_dir):
    with pytest.raises(DatasetFormatError, match='imgs: unlabeled, no labels to read'):
        read_labels(toy_data_dir / 'imgs')

"""LMDB reading/writing helpers on real benchmark images and mmocr's toy LMDBs."""
import json
import multiprocessing
import pickle
from pathlib import Path

import lmdb
import numpy as np
import pytest

from lmim_mm.datasets.folder_dataset import list_folder_samples
from lmim_mm.datasets.lmdb_utils import DatasetFormatError, LMDBReader, decode_image, iter_lmdb, load_mmocr_json
from tools.dataset_converters.lmdb_convert import export_lmdb, files_to_lmdb, image_extension, verify_lmdb, write_lmdb


def test_toy_lmdb_reads_as_labels_json(toy_data_dir):
    reader = LMDBReader(toy_data_dir / 'imgs.lmdb')
    expected = load_mmocr_json(toy_data_dir / 'labels.json', toy_data_dir / 'imgs')
    assert len(reader) == len(expected) == 10
    assert [reader.label(i) for i in range(1, 11)] == [text for _, text in expected]
    assert [reader.image(i) for i in range(1, 11)] == [Path(path).read_bytes() for path, _ in expected]
    assert all(decode_image(reader.image(i)).shape[2] == 3 for i in range(1, 11))


def test_broken_lmdb_holds_an_undecodable_image(toy_data_dir):
    reader = LMDBReader(toy_data_dir / 'broken.lmdb')
    assert len(reader) == 1 and reader.label(1) == 'broken'
    assert reader.image(1)[:3] == b'\xff\xd8\xff' and decode_image(reader.image(1)) is None  # a cut JPEG


@pytest.mark.parametrize('kind, error', [('missing', FileNotFoundError), ('plain folder', DatasetFormatError),
                                         ('garbage data.mdb', DatasetFormatError)])
def test_not_an_lmdb_names_path(tmp_path, kind, error):
    path = tmp_path / 'x.lmdb'
    if kind != 'missing':
        path.mkdir()
    if kind == 'garbage data.mdb':
        (path / 'data.mdb').write_bytes(b'garbage' * 999)
    with pytest.raises(error, match=str(path)):
        LMDBReader(path)


def test_lmdb_without_num_samples_names_path(tmp_path):
    with lmdb.open(str(tmp_path / 'x.lmdb')) as env, env.begin(write=True) as txn:
        txn.put(b'image-000000001', b'bytes')
    with pytest.raises(DatasetFormatError, match=r'x\.lmdb.*num-samples'):
        LMDBReader(tmp_path / 'x.lmdb')


def test_write_read_verify_round_trip(tmp_path, real_data_dir):
    items = list_folder_samples(real_data_dir / 'svt_test')[:25]
    samples = [(Path(p).read_bytes(), label) for p, label in items]
    assert write_lmdb(iter(samples), tmp_path / 'out', progress=False) == 25
    assert list(iter_lmdb(tmp_path / 'out')) == samples
    assert verify_lmdb(tmp_path / 'out', samples, progress=False) == 25
    changed = samples[:3] + [(samples[3][0], samples[3][1] + 'x')] + samples[4:]
    with pytest.raises(DatasetFormatError, match='label-000000004'):
        verify_lmdb(tmp_path / 'out', changed, progress=False)
    swapped = samples[:6] + [(samples[7][0], samples[6][1]), (samples[6][0], samples[7][1])] + samples[8:]
    with pytest.raises(DatasetFormatError, match='image-000000007'):
        verify_lmdb(tmp_path / 'out', swapped, progress=False)
    with pytest.raises(DatasetFormatError, match='holds 25 samples, the source has 24'):
        verify_lmdb(tmp_path / 'out', samples[:-1], progress=False)
    with pytest.raises(FileExistsError, match='out'):
        write_lmdb(samples, tmp_path / 'out', progress=False)


def test_write_grows_map_and_rejects_mixed_labels(tmp_path):
    big = [(np.random.default_rng(i).bytes(100_000), None) for i in range(50)]  # 5 MB > 1 MiB map
    assert write_lmdb(big, tmp_path / 'big', commit_every=20, map_size=1 << 20, progress=False) == 50
    assert list(iter_lmdb(tmp_path / 'big')) == big
    with pytest.raises(DatasetFormatError, match='sample 2 is unlabeled'):
        write_lmdb([(b'a', 'x'), (b'b', None)], tmp_path / 'mixed', progress=False)


def test_reader_is_lazy_and_shares_one_env_per_process(toy_data_dir):
    path = toy_data_dir / 'imgs.lmdb'
    LMDBReader(path).close()
    reader = LMDBReader(path)
    assert not reader.is_open  # nothing open after construction
    first = reader.image(1)
    other = LMDBReader(path)  # py-lmdb >= 3 refuses a second environment of one LMDB in a process
    assert reader.is_open and other.env is reader.env and other.image(1) == first
    assert pickle.loads(pickle.dumps(reader)).image(1) == first
    with multiprocessing.get_context('fork').Pool(1) as pool:  # a child inheriting the open env reads
        assert pool.map(reader.image, [1]) == [first]
    with pytest.raises(IndexError, match='11'):
        reader.image(11)
    assert reader.image(10) is not None  # the last index is num-samples
    reader.close()
    assert not other.is_open and other.image(2) is not None


def test_decode_image_rejects_garbage(real_data_dir):
    jpg = (real_data_dir / 'svt_test' / 'IMG' / '1.jpg').read_bytes()
    png = (real_data_dir / 'iiit5k_test' / 'IMG' / '1.png').read_bytes()
    assert decode_image(jpg).shape[2] == 3 and decode_image(png, backend='pillow').shape[2] == 3
    for bad in (None, b'', b'not an image', png[:40]):
        assert decode_image(bad) is None
    assert (image_extension(jpg), image_extension(png), image_extension(b'xyz')) == ('jpg', 'png', None)


def test_export_and_reimport_toy_lmdb(tmp_path, toy_data_dir):
    json_path = export_lmdb(toy_data_dir / 'imgs.lmdb', tmp_path / 'export', progress=False)
    data = json.loads(json_path.read_text(encoding='utf-8'))
    originals = list(iter_lmdb(toy_data_dir / 'imgs.lmdb'))
    assert [e['instances'][0]['text'] for e in data['data_list']] == [label for _, label in originals]
    assert [(tmp_path / 'export' / e['img_path']).read_bytes() for e in data['data_list']] == [
        img for img, _ in originals]
    assert files_to_lmdb(load_mmocr_json(json_path), tmp_path / 'again', verify=True, progress=False) == 10
    assert list(iter_lmdb(tmp_path / 'again')) == originals


def test_load_mmocr_json_names_bad_entry(tmp_path):
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(dict(metainfo={}, data_list=[
        dict(img_path='a.jpg', instances=[dict(text='a')]), dict(img_path='b.jpg', instances=[dict(txt='b')])])))
    with pytest.raises(DatasetFormatError, match=r'ann\.json: data_list\[1\]'):
        load_mmocr_json(ann)
    ann.write_text('{"data": []}')
    with pytest.raises(DatasetFormatError, match='not an MMOCR 1.x annotation file'):
        load_mmocr_json(ann)

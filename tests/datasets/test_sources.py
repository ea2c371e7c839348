"""The data sources (LMDB, folder, MMOCR JSON, path<TAB>label text) and the LMDB writer on real benchmark images
and mmocr's toy LMDBs."""
import json
import multiprocessing
import pickle
from pathlib import Path

import lmdb
import numpy as np
import pytest

from lmim_mm.datasets.image_io import ImageDecodeError, read_image
from lmim_mm.datasets.sources import (
    SOURCES,
    DatasetFormatError,
    LMDBImageBackend,
    LMDBSource,
    MMOCRJSONSource,
    guess_format,
    image_extension,
    list_folder_samples,
    open_source,
    source_to_lmdb,
    verify_lmdb,
    write_lmdb,
    write_mmocr_json,
)


def test_toy_lmdb_reads_as_labels_json(toy_data_dir):
    reader = open_source(toy_data_dir / 'imgs.lmdb')
    expected = open_source(toy_data_dir / 'labels.json', img_root=toy_data_dir / 'imgs')
    assert isinstance(reader, LMDBSource) and isinstance(expected, MMOCRJSONSource)
    assert len(reader) == len(expected) == 10 and reader.labeled and expected.labeled
    assert list(reader.samples()) == list(expected.samples())
    assert all(read_image(reader.image(i), reader.img_path(i)).shape[2] == 3 for i in range(10))
    assert reader.img_path(9) == f'{toy_data_dir / "imgs.lmdb"}/image-000000010'
    assert reader.label_path(0) == f'{toy_data_dir / "imgs.lmdb"}/label-000000001'


def test_broken_lmdb_holds_an_undecodable_image(toy_data_dir):
    reader = LMDBSource(str(toy_data_dir / 'broken.lmdb'))
    assert len(reader) == 1 and reader.label(0) == 'broken'
    assert reader.image(0)[:3] == b'\xff\xd8\xff'  # a cut JPEG
    with pytest.raises(ImageDecodeError, match='broken.lmdb/image-000000001: not a decodable image'):
        read_image(reader.image(0), reader.img_path(0))


def test_formats_are_guessed_and_registered_once(tmp_path, toy_data_dir, real_data_dir):
    assert list(SOURCES.module_dict) == ['lmdb', 'folder', 'json', 'txt']
    assert [guess_format(p) for p in (toy_data_dir / 'imgs.lmdb', real_data_dir / 'svt_test',
                                      toy_data_dir / 'labels.json')] == ['lmdb', 'folder', 'json']
    (tmp_path / 'gt.txt').write_text('a.jpg x\n')
    (tmp_path / 'notes.md').write_text('x')
    assert guess_format(tmp_path / 'gt.txt') == 'txt'
    with pytest.raises(DatasetFormatError, match=r'notes\.md: not an LMDB'):
        open_source(tmp_path / 'notes.md')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        open_source(tmp_path / 'nowhere')
    with pytest.raises(ValueError, match="unknown source format 'csv'"):
        open_source(tmp_path / 'gt.txt', 'csv')
    with pytest.raises(ValueError, match='img_root applies to json and txt'):
        open_source(real_data_dir / 'svt_test', img_root=tmp_path)
    with pytest.raises(KeyError, match='lmdb is already registered'):
        SOURCES.register_module('lmdb', module=LMDBSource)


def test_folder_sources_labeled_or_plain(real_data_dir, toy_data_dir):
    labeled = open_source(real_data_dir / 'svt_test')
    assert labeled.labeled and len(labeled) == 647
    assert labeled.label_path(9) == str(real_data_dir / 'svt_test' / 'label' / '10.txt')
    plain = open_source(toy_data_dir / 'imgs')
    assert not plain.labeled and len(plain) == 10
    assert all(label is None for _, label in plain.samples())
    with pytest.raises(DatasetFormatError, match='unlabeled, no label'):
        plain.label(0)


def test_lmdb_image_backend_reads_lmdb_keys_and_files(toy_data_dir):
    backend, root = LMDBImageBackend(), toy_data_dir / 'imgs.lmdb'
    assert backend.get(f'{root}/image-000000002') == LMDBSource(str(root)).image(1)
    assert backend.get(toy_data_dir / 'labels.json') == (toy_data_dir / 'labels.json').read_bytes()
    with pytest.raises(DatasetFormatError, match='image-000000011'):
        backend.get(f'{root}/image-000000011')


@pytest.mark.parametrize('kind, error', [('missing', FileNotFoundError), ('plain folder', DatasetFormatError),
                                         ('garbage data.mdb', DatasetFormatError)])
def test_not_an_lmdb_names_path(tmp_path, kind, error):
    path = tmp_path / 'x.lmdb'
    if kind != 'missing':
        path.mkdir()
    if kind == 'garbage data.mdb':
        (path / 'data.mdb').write_bytes(b'garbage' * 999)
    with pytest.raises(error, match=str(path)):
        LMDBSource(str(path))


def test_lmdb_without_num_samples_names_path(tmp_path):
    with lmdb.open(str(tmp_path / 'x.lmdb')) as env, env.begin(write=True) as txn:
        txn.put(b'image-000000001', b'bytes')
    with pytest.raises(DatasetFormatError, match=r'x\.lmdb.*num-samples'):
        LMDBSource(str(tmp_path / 'x.lmdb'))


def test_write_read_verify_round_trip(tmp_path, real_data_dir):
    items = list_folder_samples(real_data_dir / 'svt_test')[:25]
    samples = [(Path(p).read_bytes(), label) for p, label in items]
    assert write_lmdb(iter(samples), tmp_path / 'out', progress=False) == 25
    assert list(open_source(tmp_path / 'out').samples()) == samples
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
    assert list(open_source(tmp_path / 'big').samples()) == big
    with pytest.raises(DatasetFormatError, match='sample 2 is unlabeled'):
        write_lmdb([(b'a', 'x'), (b'b', None)], tmp_path / 'mixed', progress=False)


def test_lmdb_source_is_lazy_and_shares_one_env_per_process(toy_data_dir):
    path = str(toy_data_dir / 'imgs.lmdb')
    LMDBSource(path).close()
    reader = LMDBSource(path)
    assert not reader.is_open  # nothing open after construction
    first = reader.image(0)
    other = LMDBSource(path)  # py-lmdb >= 3 refuses a second environment of one LMDB in a process
    assert reader.is_open and other.env is reader.env and other.image(0) == first
    assert pickle.loads(pickle.dumps(reader)).image(0) == first
    with multiprocessing.get_context('fork').Pool(1) as pool:  # a child inheriting the open env reads
        assert pool.map(reader.image, [0]) == [first]
    with pytest.raises(IndexError, match='10'):
        reader.image(10)
    assert reader.image(9) is not None  # the last index is num-samples - 1
    reader.close()
    assert not other.is_open and other.image(1) is not None


def test_image_extension(real_data_dir):
    jpg = (real_data_dir / 'svt_test' / 'IMG' / '1.jpg').read_bytes()
    png = (real_data_dir / 'iiit5k_test' / 'IMG' / '1.png').read_bytes()
    assert (image_extension(jpg), image_extension(png), image_extension(b'xyz')) == ('jpg', 'png', None)


def test_export_and_reimport_toy_lmdb(tmp_path, toy_data_dir):
    json_path = write_mmocr_json(open_source(toy_data_dir / 'imgs.lmdb'), tmp_path / 'export', progress=False)
    data = json.loads(json_path.read_text(encoding='utf-8'))
    originals = list(open_source(toy_data_dir / 'imgs.lmdb').samples())
    assert [e['instances'][0]['text'] for e in data['data_list']] == [label for _, label in originals]
    assert [(tmp_path / 'export' / e['img_path']).read_bytes() for e in data['data_list']] == [
        img for img, _ in originals]
    assert source_to_lmdb(open_source(json_path), tmp_path / 'again', verify=True, progress=False) == 10
    assert list(open_source(tmp_path / 'again').samples()) == originals


def test_mmocr_json_names_bad_entry(tmp_path):
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(dict(metainfo={}, data_list=[
        dict(img_path='a.jpg', instances=[dict(text='a')]), dict(img_path='b.jpg', instances=[dict(txt='b')])])))
    with pytest.raises(DatasetFormatError, match=r'ann\.json: data_list\[1\]'):
        open_source(ann)
    ann.write_text('{"data": []}')
    with pytest.raises(DatasetFormatError, match='not an MMOCR 1.x annotation file'):
        open_source(ann)

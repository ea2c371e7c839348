"""tools/dataset_converters/lmdb_converter.py on real benchmark images: folders, MMOCR JSON and path<TAB>label
text files to LMDBs, LMDBs to image files + MMOCR JSON."""
import importlib.util
import json
import shutil
from pathlib import Path

import lmdb
import pytest

from lmim_mm.datasets.sources import DatasetFormatError, open_source

ROOT = Path(__file__).parents[2]


def convert(*args) -> None:
    """Run ``tools/dataset_converters/lmdb_converter.py`` with ``args``."""
    spec = importlib.util.spec_from_file_location('lmdb_converter',
                                                  ROOT / 'tools' / 'dataset_converters' / 'lmdb_converter.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(arg) for arg in args])


def raw_lmdb(path: Path) -> dict:
    """Every key/value of an LMDB, read with py-lmdb directly (independent of lmim_mm's reader)."""
    with lmdb.open(str(path), readonly=True, lock=False) as env, env.begin() as txn:
        return {key.decode(): value for key, value in txn.cursor()}


@pytest.mark.slow
@pytest.mark.parametrize('name, size', [('iiit5k_test', 3000), ('svt_test', 647)])
def test_folder_to_lmdb_is_lossless(tmp_path, real_data_dir, name, size):
    src = real_data_dir / name
    convert(src, tmp_path / 'out', '--verify')
    stored = raw_lmdb(tmp_path / 'out')
    assert stored.pop('num-samples') == str(size).encode() and len(stored) == 2 * size
    for i in range(1, size + 1):
        img = next((src / 'IMG').glob(f'{i}.*'))
        assert stored[f'image-{i:09d}'] == img.read_bytes(), img
        label = (src / 'label' / f'{i}.txt').read_text(encoding='utf-8').removesuffix('\n')
        assert stored[f'label-{i:09d}'].decode('utf-8') == label, img


def test_folder_to_lmdb_unlabeled_and_errors(tmp_path, real_data_dir, toy_data_dir):
    convert(real_data_dir / 'svt_train', tmp_path / 'u', '--unlabeled', '--verify')
    stored = raw_lmdb(tmp_path / 'u')
    assert stored['num-samples'] == b'257' and not any(k.startswith('label') for k in stored)
    assert stored['image-000000100'] == (real_data_dir / 'svt_train' / 'IMG' / '100.jpg').read_bytes()
    with pytest.raises(FileExistsError, match=str(tmp_path / 'u')):
        convert(real_data_dir / 'svt_train', tmp_path / 'u')
    with pytest.raises(FileNotFoundError, match=f'{toy_data_dir}: no image files'):
        convert(toy_data_dir, tmp_path / 'v')
    (tmp_path / 'half' / 'IMG').mkdir(parents=True)
    (tmp_path / 'half' / 'label').mkdir()
    shutil.copy(real_data_dir / 'svt_train' / 'IMG' / '1.jpg', tmp_path / 'half' / 'IMG' / '1.jpg')
    with pytest.raises(DatasetFormatError, match=r'images without label file: \[.*1\.jpg'):
        convert(tmp_path / 'half', tmp_path / 'w')


def test_json_lmdb_round_trip(tmp_path, toy_data_dir):
    convert(toy_data_dir / 'labels.json', tmp_path / 'a', '--img-root', toy_data_dir / 'imgs', '--verify')
    entries = json.loads((toy_data_dir / 'labels.json').read_text(encoding='utf-8'))['data_list']
    expected = [((toy_data_dir / 'imgs' / e['img_path']).read_bytes(), e['instances'][0]['text']) for e in entries]
    assert list(open_source(tmp_path / 'a').samples()) == expected
    convert(tmp_path / 'a', tmp_path / 'export')
    exported = json.loads((tmp_path / 'export' / 'labels.json').read_text(encoding='utf-8'))
    assert [e['instances'] for e in exported['data_list']] == [e['instances'] for e in entries]
    assert exported['data_list'][0]['img_path'] == 'imgs/000000001.jpg'
    convert(tmp_path / 'export' / 'labels.json', tmp_path / 'b', '--verify')
    assert raw_lmdb(tmp_path / 'b') == raw_lmdb(tmp_path / 'a')


def test_unlabeled_lmdb_to_json_round_trip(tmp_path, toy_data_dir):
    convert(toy_data_dir / 'imgs', tmp_path / 'u')  # a plain image folder: unlabeled
    convert(tmp_path / 'u', tmp_path / 'export', '--to', 'json')
    exported = json.loads((tmp_path / 'export' / 'labels.json').read_text(encoding='utf-8'))
    assert len(exported['data_list']) == 10 and all(e['instances'] == [] for e in exported['data_list'])
    convert(tmp_path / 'export' / 'labels.json', tmp_path / 'u2')
    assert raw_lmdb(tmp_path / 'u2') == raw_lmdb(tmp_path / 'u')


def test_json_to_lmdb_names_missing_image(tmp_path):
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(dict(metainfo={}, data_list=[dict(img_path='gone.jpg', instances=[dict(text='x')])])))
    with pytest.raises(FileNotFoundError, match='gone.jpg'):
        convert(ann, tmp_path / 'out')


def test_lmdb_format_names_non_lmdb_and_mixed_json(tmp_path, toy_data_dir):
    with pytest.raises(DatasetFormatError, match=f'{toy_data_dir / "imgs"} is not an LMDB directory'):
        convert(toy_data_dir / 'imgs', tmp_path / 'out', '--format', 'lmdb')
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(dict(metainfo={}, data_list=[dict(img_path='a.jpg', instances=[dict(text='x')]),
                                                           dict(img_path='b.jpg', instances=[])])))
    with pytest.raises(DatasetFormatError, match=r'b\.jpg is unlabeled unlike .*a\.jpg'):
        convert(ann, tmp_path / 'out')


def test_txt_tab_and_space_lines_are_stored_unchanged(tmp_path, real_data_dir):
    src = real_data_dir / 'svt_test'
    gt = tmp_path / 'gt.txt'
    # tab lines keep spaces inside labels; a space line splits at its first space; CRLF endings
    gt.write_bytes('IMG/1.jpg\tNew York\r\nIMG/2.jpg café\n\nIMG/3.jpg\t x \nIMG/4.jpg PUBLIC\n'.encode())
    convert(gt, tmp_path / 'out', '--img-root', src, '--verify')
    stored = raw_lmdb(tmp_path / 'out')
    assert stored.pop('num-samples') == b'4'
    labels = ['New York', 'café', ' x ', 'PUBLIC']
    for i, label in enumerate(labels, start=1):
        assert stored[f'image-{i:09d}'] == (src / 'IMG' / f'{i}.jpg').read_bytes()
        assert stored[f'label-{i:09d}'].decode('utf-8') == label


def test_txt_root_defaults_to_the_text_files_folder(tmp_path, real_data_dir):
    (tmp_path / 'imgs').mkdir()
    shutil.copy(real_data_dir / 'svt_test' / 'IMG' / '7.jpg', tmp_path / 'imgs' / 'a.jpg')
    (tmp_path / 'gt.txt').write_text('imgs/a.jpg\tword\n', encoding='utf-8')
    convert(tmp_path / 'gt.txt', tmp_path / 'out')
    img = (tmp_path / 'imgs' / 'a.jpg').read_bytes()
    assert raw_lmdb(tmp_path / 'out') == {'num-samples': b'1', 'image-000000001': img, 'label-000000001': b'word'}


def test_txt_bad_lines_are_reported_by_number(tmp_path, real_data_dir):
    gt = tmp_path / 'gt.txt'
    gt.write_bytes(b'IMG/1.jpg\tgood\n'          # 1 fine
                   b'IMG/2.jpg\n'                # 2 no separator
                   b'IMG/3.jpg\t\n'              # 3 empty label
                   b'IMG/missing.jpg\tword\n'    # 4 no such image
                   b'IMG/5.jpg\t\xff\xfe\n'      # 5 not UTF-8
                   b'IMG/6.jpg six\n')           # 6 fine
    with pytest.raises(DatasetFormatError) as err:
        convert(gt, tmp_path / 'out', '--img-root', real_data_dir / 'svt_test')
    message = str(err.value)
    assert message.startswith(f'{gt}: 4 bad line(s)')
    for number in (2, 3, 4, 5):
        assert f'line {number}:' in message
    assert 'line 1:' not in message and 'line 6:' not in message
    assert 'missing.jpg' in message and 'not UTF-8' in message
    assert not (tmp_path / 'out').exists()  # nothing written


def test_txt_existing_lmdb_is_not_overwritten(tmp_path, real_data_dir):
    gt = tmp_path / 'gt.txt'
    gt.write_text('IMG/1.jpg\tone\n', encoding='utf-8')
    convert(gt, tmp_path / 'out', '--img-root', real_data_dir / 'svt_test')
    with pytest.raises(FileExistsError, match=str(tmp_path / 'out')):
        convert(gt, tmp_path / 'out', '--img-root', real_data_dir / 'svt_test')
    with lmdb.open(str(tmp_path / 'out'), readonly=True, lock=False) as env:
        assert env.stat()['entries'] == 3

"""Tiny overrides of the recognizer, MAE and LMIM configs, for tests that run the real tools on tiny data
(:func:`tests.helpers.tiny_data.write_tiny_datasets`)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY_VIT = "dict(type='mmpretrain.TextViT', arch=dict(embed_dims=32, num_layers=1, num_heads=2), out_type='raw')"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def tiny_lmim_config(tmp_path: Path, data: Path) -> Path:
    """The LMIM pretraining config (no teacher checkpoint), one epoch over ``data/unlabeled``."""
    return write(tmp_path / 'tiny_lmim.py', f"""
_base_ = [{str(REPO / 'configs' / 'lmim_pretrain.py')!r}]
model = dict(backbone=dict(_delete_=True, **{TINY_VIT}),
             neck=dict(in_channels=32, embed_dim=32, depth=1, num_heads=2, ffn_dim=64), teacher_init_cfg=None)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, pin_memory=False,
                        dataset=dict(data_root={str(data / 'unlabeled')!r}))
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
""")


def tiny_mae_config(tmp_path: Path, data: Path, max_iters: int = 8, interval: int = 2) -> Path:
    """The MAE pretraining config, ``max_iters`` iterations over ``data/unlabeled``, a checkpoint every
    ``interval``."""
    config, = (REPO / 'configs' / 'mae').glob('*.py')
    return write(tmp_path / 'tiny_mae.py', f"""
_base_ = [{str(config)!r}]
model = dict(backbone=dict(_delete_=True, **{TINY_VIT}), neck=dict(in_channels=32, embed_dim=32, depth=1, num_heads=2))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, pin_memory=False,
                        dataset=dict(data_root={str(data / 'unlabeled')!r}))
train_cfg = dict(_delete_=True, type='mmocr.ExactResumeIterBasedTrainLoop', max_iters={max_iters})
param_scheduler = [dict(type='CosineAnnealingLR', T_max={max_iters}, by_epoch=False, begin=0, end={max_iters})]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(by_epoch=False, interval={interval}, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
test_dataloader = None
test_evaluator = None
test_cfg = None
""")


def tiny_recognizer_config(tmp_path: Path, data: Path) -> Path:
    """The recognizer fine-tuning config on ``data/labeled`` (training, validation and test)."""
    return write(tmp_path / 'tiny_recognizer.py', f"""
_base_ = [{str(REPO / 'configs' / 'textrecog' / 'vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-10e_union14m-l.py')!r}]
model = dict(backbone=dict(_delete_=True, **{TINY_VIT}), encoder=dict(in_channels=32, out_channels=32),
             decoder=dict(n_layers=1, d_model=32, n_head=2, d_k=16, d_v=16, d_inner=32))
tiny_set = dict(type='LabeledLMDBDataset', data_root={str(data / 'labeled')!r}, test_mode=True, pipeline=None)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(datasets=[dict(tiny_set, test_mode=False)]))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False, dataset=dict(datasets=[tiny_set]))
test_dataloader = val_dataloader
val_evaluator = dict(dataset_prefixes=['tiny'])
test_evaluator = val_evaluator
""")

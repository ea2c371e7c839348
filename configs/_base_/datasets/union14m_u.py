# Union14M-U: three unlabeled LMDBs (~10M word images), keys num-samples / image-%09d.
# `--cfg-options union14m_u_root=/x` moves every path below under /x (docs/en/data_preparation.md#data-roots)
union14m_u_root = 'data/Union14M-U'
union14m_u_train_roots = [
    f'{union14m_u_root}/book32_lmdb', f'{union14m_u_root}/cc_lmdb', f'{union14m_u_root}/openvino_lmdb'
]
# a held-out unlabeled LMDB for `tools/test.py` on a pretraining checkpoint (reconstruction loss)
union14m_u_test_roots = [f'{union14m_u_root}/heldout_lmdb']

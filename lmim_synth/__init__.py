"""Synthetic word images for the demo and the tests: real words rendered with real fonts
(:mod:`lmim_synth.synthetic`) under scene-text effects (:mod:`lmim_synth.scene_effects`).

Demo-data tooling, installed next to ``lmim_mm`` by ``setup.py`` (``tools/data/make_synthetic.py`` runs it);
it writes its LMDBs with :func:`lmim_mm.datasets.sources.write_lmdb`.
"""

"""Data tools: the synthetic word renderer (:mod:`tools.data.synthetic`, its scene-text effects in
:mod:`tools.data.scene_effects`), dictionaries."""

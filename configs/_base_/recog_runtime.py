_base_ = ['default_runtime.py']
default_scope = 'mmocr'
# pictures of recognised words go to the visualizer's backends (add TensorboardVisBackend / WandbVisBackend
# here): RecognitionSamplesHook sends the first words of each evaluation, tools/test.py --show-dir every test word
default_hooks = dict(visualization=dict(type='VisualizationHook', interval=1, enable=False, show=False,
                                        draw_gt=False, draw_pred=False))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ScoredTextRecogVisualizer', name='visualizer', vis_backends=vis_backends)
# before training / validation / testing every dataset's labels are checked against the recognizer's
# dictionary (DictCoverageHook): a dataset with more than 5% of labels holding characters it lacks (they
# would silently become UNKNOWN) stops the run, naming it
custom_hooks = [dict(type='ExactResumeHook'), dict(type='SkipReportHook'), _base_.non_finite_guard,
                dict(type='DictCoverageHook', max_oov_share=0.05)]

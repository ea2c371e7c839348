_base_ = ['default_runtime.py']
default_scope = 'mmocr'
default_hooks = dict(visualization=dict(type='VisualizationHook', interval=1, enable=False, show=False,
                                        draw_gt=False, draw_pred=False))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='TextRecogLocalVisualizer', name='visualizer', vis_backends=vis_backends)

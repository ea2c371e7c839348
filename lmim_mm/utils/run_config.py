"""Shared config handling for ``tools/train.py`` and ``tools/test.py``."""
import argparse
import logging
import os
import os.path as osp
from typing import List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments both tools take: ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir', help='folder for logs and checkpoints')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value (e.g. train_dataloader.batch_size=32)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Read the config, apply ``--cfg-options``, the launcher and the work dir.

    On a machine without CUDA, :func:`use_cpu_settings` applies, so the same commands
    (``tools/dist_train.sh CONFIG 2``) run on CPUs.

    Args:
        args: Parsed arguments from a parser prepared by :func:`add_common_args`.

    Returns:
        The config.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if not torch.cuda.is_available():
        use_cpu_settings(cfg)
    return cfg


def use_cpu_settings(cfg: Config) -> None:
    """Run a GPU recipe on CPUs: gloo instead of nccl, DDP without device ids, fp32 ``OptimWrapper``
    instead of ``AmpOptimWrapper`` (mmengine's AMP wrapper needs a GPU). The changes are logged."""
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    if dist_cfg.get('backend') == 'nccl':
        dist_cfg['backend'] = 'gloo'
        print_log('no CUDA device: distributed backend nccl -> gloo', logger='current', level=logging.WARNING)
    if cfg.get('launcher', 'none') != 'none':  # DDP on CPU modules takes no device ids
        cfg.model_wrapper_cfg = dict(cfg.get('model_wrapper_cfg') or
                                     dict(type='MMDistributedDataParallel', broadcast_buffers=False),
                                     device_ids=None)
    wrapper = cfg.get('optim_wrapper', {})
    if wrapper.get('type') == 'AmpOptimWrapper':
        wrapper['type'] = 'OptimWrapper'
        for key in ('dtype', 'loss_scale', 'use_fsdp'):
            wrapper.pop(key, None)
        print_log('no CUDA device: AmpOptimWrapper -> OptimWrapper (fp32)', logger='current',
                  level=logging.WARNING)


def enable_amp(cfg: Config, dtype: Optional[str] = None) -> None:
    """Turn ``OptimWrapper`` into ``AmpOptimWrapper`` (bf16 where supported unless ``dtype`` says)."""
    wrapper = cfg.optim_wrapper
    if wrapper.get('type') == 'AmpOptimWrapper':
        print_log('AMP is already enabled in the config', logger='current', level=logging.WARNING)
        return
    if wrapper.get('type', 'OptimWrapper') != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, got {wrapper.get("type")}')
    wrapper.type = 'AmpOptimWrapper'
    if dtype is None:
        dtype = 'bfloat16' if not torch.cuda.is_available() or torch.cuda.is_bf16_supported() else 'float16'
    wrapper.dtype = dtype
    if dtype == 'float16':
        wrapper.loss_scale = 'dynamic'


#: Where each launcher tells a process its global rank before mmengine sets up the process group.
_RANK_VARIABLES = dict(pytorch='RANK', slurm='SLURM_PROCID', mpi='OMPI_COMM_WORLD_RANK')


def launcher_rank(cfg: Config) -> int:
    """This process's global rank under ``cfg.launcher``, read from the launcher's environment (0 without one)."""
    variable = _RANK_VARIABLES.get(cfg.get('launcher', 'none'))
    return int(os.environ.get(variable, '0')) if variable else 0


def build_runner(cfg: Config):
    """``Runner.from_cfg`` or the registered runner named by ``cfg.runner_type``.

    For ``launcher='pytorch'`` on a machine without CUDA the gloo process group is created here:
    mmengine's ``init_dist`` would call ``torch.cuda.set_device`` and fail.
    """
    import torch.distributed as dist
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    if cfg.get('launcher') == 'pytorch' and not torch.cuda.is_available() and not dist.is_initialized():
        dist.init_process_group(backend=cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo'))
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)


__all__: List[str] = ['add_common_args', 'build_runner', 'enable_amp', 'launcher_rank', 'load_config',
                       'use_cpu_settings']

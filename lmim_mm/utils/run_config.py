"""Shared config handling for ``tools/train.py`` and ``tools/test.py``."""
import argparse
import logging
import os
import os.path as osp
from typing import Any, Dict, Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments both tools take: ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir', help='folder for logs and checkpoints')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value (e.g. train_dataloader.batch_size=32)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """The config of parsed ``args`` (:func:`add_common_args`) with ``--cfg-options``, the launcher and the work
    dir applied; without CUDA also :func:`use_cpu_settings`, so the same commands run on CPUs."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if not torch.cuda.is_available():
        use_cpu_settings(cfg)
    return cfg


def data_roots(cfg: Config) -> Dict[str, str]:
    """The config's root variables: top-level string entries named ``*_root`` (``union14m_u_root``, ...)."""
    return {key: value for key, value in cfg.items() if key.endswith('_root') and isinstance(value, str)}


def merge_cfg_options(cfg: Config, options: Dict[str, Any]) -> None:
    """Merge ``--cfg-options`` (as :class:`mmengine.config.DictAction` parses them) into ``cfg`` in place; a changed
    root variable moves every path derived from it.

    mmengine resolves ``f'{union14m_u_root}/cc_lmdb'`` when it parses a config, so merging ``union14m_u_root=/x``
    alone changes nothing made from it: here every string equal to a changed root's old value, or starting with it
    and ``/``, gets the new value as prefix (the longest old root wins; keys that ``options`` sets are kept as given).
    A top-level ``*_root`` option the config lacks raises a ``KeyError`` (a typo would add an unused key)."""
    roots = data_roots(cfg)
    unknown = [key for key in options if key.endswith('_root') and '.' not in key and key not in roots]
    if unknown:
        raise KeyError(f'--cfg-options {unknown[0]}: {cfg.filename} has no such data root; its roots: '
                       f'{", ".join(sorted(roots)) or "none"}')
    cfg.merge_from_dict(options)
    moves = {old: cfg[key] for key, old in roots.items() if key in options and cfg[key] != old}
    if not moves:
        return
    kept = set(options)
    for key in list(cfg.keys()):
        if key not in kept:
            cfg[key] = move_paths(cfg[key], moves, key, kept)


def move_paths(node: Any, moves: Dict[str, str], path: str, kept: set) -> Any:
    """``node`` (dicts changed in place) with each string under an old root of ``moves`` (old -> new) moved under
    its new root; ``path``: the dotted key of ``node`` (list items by index), to leave the keys in ``kept`` alone."""
    if isinstance(node, str):
        for old in sorted(moves, key=len, reverse=True):
            base = old.rstrip('/')
            if node == base or node.startswith(base + '/'):
                return moves[old].rstrip('/') + node[len(base):]
        return node
    if isinstance(node, dict):
        for key in list(node.keys()):
            if f'{path}.{key}' not in kept:
                node[key] = move_paths(node[key], moves, f'{path}.{key}', kept)
        return node
    if isinstance(node, (list, tuple)):
        return type(node)(move_paths(item, moves, f'{path}.{index}', kept) for index, item in enumerate(node))
    return node


def use_cpu_settings(cfg: Config) -> None:
    """Run a GPU recipe on CPUs (logged): gloo for nccl, DDP without device ids, fp32 instead of ``AmpOptimWrapper``."""
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    if dist_cfg.get('backend') == 'nccl':
        dist_cfg['backend'] = 'gloo'
        print_log('no CUDA device: distributed backend nccl -> gloo', logger='current', level=logging.WARNING)
    if cfg.get('launcher', 'none') != 'none':  # DDP on CPU modules takes no device ids
        cfg.model_wrapper_cfg = dict(cfg.get('model_wrapper_cfg') or
                                     dict(type='MMDistributedDataParallel', broadcast_buffers=False), device_ids=None)
    wrapper = cfg.get('optim_wrapper', {})
    if wrapper.get('type') == 'AmpOptimWrapper':
        wrapper['type'] = 'OptimWrapper'
        for key in ('dtype', 'loss_scale', 'use_fsdp'):
            wrapper.pop(key, None)
        print_log('no CUDA device: AmpOptimWrapper -> OptimWrapper (fp32)', logger='current', level=logging.WARNING)


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


def launcher_rank(cfg: Config) -> int:
    """This process's global rank under ``cfg.launcher``, read from the launcher's environment (0 without one)."""
    variable = dict(pytorch='RANK', slurm='SLURM_PROCID', mpi='OMPI_COMM_WORLD_RANK').get(cfg.get('launcher', 'none'))
    return int(os.environ.get(variable, '0')) if variable else 0


def build_runner(cfg: Config):
    """``Runner.from_cfg`` or the registered runner named by ``cfg.runner_type``; for ``launcher='pytorch'`` without
    CUDA the gloo process group is created here (mmengine's ``init_dist`` would call ``torch.cuda.set_device``)."""
    if cfg.get('launcher') == 'pytorch' and not torch.cuda.is_available() and not dist.is_initialized():
        dist.init_process_group(backend=cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo'))
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)

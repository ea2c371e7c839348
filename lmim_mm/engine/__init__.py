from . import fileio  # noqa: F401  (registers the 'atomic_local' backend)
from .hooks import ExactResumeHook

__all__ = ['ExactResumeHook']

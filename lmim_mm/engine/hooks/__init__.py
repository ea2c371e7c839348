from .exact_resume import ExactResumeHook

__all__ = ['ExactResumeHook']

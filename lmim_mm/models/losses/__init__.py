from .reconstruction import feature_mse, masked_token_mse

__all__ = ['feature_mse', 'masked_token_mse']

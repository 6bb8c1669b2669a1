"""Secret stores (contract §5): the store interface (base.py) and the built-in keyring and Vault stores."""
